//! Whose files a request reaches. A logged-in user's keys live under
//! `users/<id>/` in the store, and the paths they use stay as they were:
//! `/blobs/photo.jpg` is `users/<id>/photo.jpg`. Anonymous use (only when
//! the manifest's `drive_anonymous` says so) reaches the rest of the store,
//! never a user's namespace.

/// The store prefix of every user's namespace.
pub const USERS: &str = "users/";

/// The store key of `key` in user `id`'s namespace (`""`: the prefix of
/// all their files).
pub fn user_key(id: &str, key: &str) -> String {
    format!("{USERS}{id}/{key}")
}

/// The namespace a request works in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Namespace {
    /// A user's own: `users/<id>/`.
    User(String),
    /// The shared, anonymous drive (everything but `users/`).
    Anonymous,
}

impl Namespace {
    /// The namespace of user `id`.
    pub fn user(id: &str) -> Self {
        Namespace::User(user_key(id, ""))
    }

    fn prefix(&self) -> &str {
        match self {
            Namespace::User(prefix) => prefix,
            Namespace::Anonymous => "",
        }
    }

    /// The store key of the request's `key`; `None` when an anonymous key
    /// reaches into a user's namespace (answered as absent).
    pub fn store_key(&self, key: &str) -> Option<String> {
        match self {
            Namespace::Anonymous if key.starts_with(USERS) => None,
            _ => Some(format!("{}{key}", self.prefix())),
        }
    }

    /// The key the request sees of the store key `stored`; `None` when it
    /// is not in this namespace.
    pub fn visible_key<'a>(&self, stored: &'a str) -> Option<&'a str> {
        match self {
            Namespace::Anonymous if stored.starts_with(USERS) => None,
            _ => stored.strip_prefix(self.prefix()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_users_keys_live_under_their_id_and_anonymous_use_never_reaches_them() {
        let ann = Namespace::user("0a1b");
        assert_eq!(
            ann.store_key("photo.jpg").as_deref(),
            Some("users/0a1b/photo.jpg")
        );
        assert_eq!(ann.visible_key("users/0a1b/photo.jpg"), Some("photo.jpg"));
        assert_eq!(ann.visible_key("users/ffff/photo.jpg"), None);
        assert_eq!(ann.visible_key("photo.jpg"), None);
        // A user's own "users/..." key stays inside their namespace.
        assert_eq!(
            ann.store_key("users/ffff/x").as_deref(),
            Some("users/0a1b/users/ffff/x")
        );
        assert_eq!(user_key("0a1b", "photo.jpg"), "users/0a1b/photo.jpg");
        let anyone = Namespace::Anonymous;
        assert_eq!(anyone.store_key("photo.jpg").as_deref(), Some("photo.jpg"));
        assert_eq!(anyone.store_key("users/0a1b/photo.jpg"), None);
        assert_eq!(anyone.visible_key("users/0a1b/photo.jpg"), None);
        assert_eq!(anyone.visible_key("photo.jpg"), Some("photo.jpg"));
    }
}
