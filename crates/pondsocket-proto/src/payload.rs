//! What the core reads of a payload. Payloads stay in the host's form (a JS object, JSON text); the core reads a
//! few members of the rare ones that carry protocol data (declines, errors, evictions) and passes every other one
//! on untouched.

use std::fmt;

/// A payload object as the host keeps it.
///
/// ```
/// use pondsocket_proto::Payload;
/// #[derive(Clone, Debug, PartialEq)]
/// struct Pairs(Vec<(&'static str, &'static str)>);
/// impl Payload for Pairs {
///     type List = Vec<Pairs>;
///     fn string(&self, key: &str) -> Option<String> {
///         self.0.iter().find(|(k, _)| *k == key).map(|(_, v)| v.to_string())
///     }
///     fn whole_number(&self, key: &str) -> Option<u32> {
///         self.string(key)?.parse().ok()
///     }
///     fn object(&self, _key: &str) -> Option<Self> {
///         None
///     }
///     fn json(&self, key: &str) -> Option<String> {
///         Some(["\"", &self.string(key)?, "\""].concat())
///     }
/// }
/// assert_eq!(Pairs(vec![("reason", "spam")]).string("reason").as_deref(), Some("spam"));
/// ```
pub trait Payload: Clone {
    /// A `PRESENCE` message's list of everyone present, in the host's form.
    type List: Clone + Default + fmt::Debug + PartialEq;

    /// The member `key` if it is a string.
    fn string(&self, key: &str) -> Option<String>;

    /// The member `key` if it is a whole number from 0 to `u32::MAX`.
    fn whole_number(&self, key: &str) -> Option<u32>;

    /// The member `key` if it is an object.
    fn object(&self, key: &str) -> Option<Self>;

    /// The member `key`, whatever it is, as JSON text.
    fn json(&self, key: &str) -> Option<String>;
}
