//! The page's events that matter to a connection (`watchPage` in the host): network, visibility, focus, the
//! back/forward cache, each handed to the core as it happens. Installed for the client's life where there is a page,
//! nothing in Node; dropping the watch removes the listeners.

use std::rc::Weak;

use js_sys::Function;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::codec::Codec;
use crate::platform::watch_page;
use crate::runtime::Shared;

pub(crate) struct PageWatch {
    stop: Function,
    _report: Closure<dyn Fn(u32)>,
}

impl PageWatch {
    /// Listens to the page for `shared`, held weakly: the page's listeners must not keep a dropped client alive.
    /// `None` where there is no page.
    pub(crate) fn start<C: Codec>(shared: Weak<Shared<C>>) -> Option<Self> {
        let report = Closure::<dyn Fn(u32)>::new(move |kind: u32| {
            let Some(shared) = shared.upgrade() else { return };
            shared.with_core(|core, now| match kind {
                0 => core.network_lost(),
                1 => core.network_back(now),
                2 => core.page_visible(true, now),
                3 => core.page_visible(false, now),
                4 => core.page_focused(now),
                5 => core.page_frozen(now),
                _ => core.page_restored(now),
            });
        });
        let stop = watch_page(report.as_ref().unchecked_ref())?;
        Some(PageWatch { stop, _report: report })
    }
}

impl Drop for PageWatch {
    fn drop(&mut self) {
        let _ = self.stop.call0(&JsValue::UNDEFINED);
    }
}
