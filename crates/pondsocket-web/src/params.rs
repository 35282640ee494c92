//! Waiting for the params function before a connection attempt: the host calls it and hands back the params (or why
//! there are none); the attempt's socket is opened only then. Dropping the wait gives the attempt up: a late answer
//! is ignored and its callbacks are detached.

use std::rc::Rc;

use js_sys::Function;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::codec::Codec;
use crate::platform::await_params;
use crate::runtime::{self, Shared};
use pondsocket_proto::{SocketId, Transport};

pub(crate) struct ParamsWait {
    pub(crate) id: SocketId,
    /// The endpoint the attempt goes to, and over what, once the params are known.
    pub(crate) url: String,
    pub(crate) transport: Transport,
    cancel: Function,
    // Owned here; `cancel` first makes sure the host calls neither again.
    _done: Closure<dyn Fn(JsValue)>,
    _fail: Closure<dyn Fn(JsValue)>,
}

impl ParamsWait {
    /// Calls `source` for the attempt `id` at `url`.
    pub(crate) fn start<C: Codec>(
        shared: &Rc<Shared<C>>,
        id: SocketId,
        url: &str,
        transport: Transport,
        source: &Function,
    ) -> Self {
        // The callbacks hold the client strongly, as a socket's handlers do: an attempt under way keeps it alive
        // (until it is given up: the connection timeout bounds a params function that never settles).
        let done = {
            let shared = shared.clone();
            Closure::<dyn Fn(JsValue)>::new(move |params: JsValue| runtime::params_ready(&shared, id, params))
        };
        let fail = {
            let shared = shared.clone();
            Closure::<dyn Fn(JsValue)>::new(move |why: JsValue| {
                runtime::params_failed(&shared, id, &why.as_string().unwrap_or_default());
            })
        };
        let cancel = await_params(source, done.as_ref().unchecked_ref(), fail.as_ref().unchecked_ref());
        ParamsWait { id, url: url.to_owned(), transport, cancel, _done: done, _fail: fail }
    }
}

impl Drop for ParamsWait {
    fn drop(&mut self) {
        let _ = self.cancel.call0(&JsValue::UNDEFINED);
    }
}
