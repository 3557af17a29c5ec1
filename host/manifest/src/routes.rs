//! Spin's HTTP routing rules: exact paths, `:name` segments, a trailing
//! `/...` wildcard; exact routes beat wildcards and the longest match wins.

use std::fmt;

/// Why a route pattern is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    /// `...` may only end a route.
    #[error("`...` may only appear as the last segment of a route (as in `/x/...`)")]
    WildcardNotLast,
    /// A `:` segment without a name.
    #[error("`:` must be followed by a parameter name (as in `/users/:id`)")]
    EmptyParameter,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
}

/// A parsed route pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutePattern {
    raw: String,
    segments: Vec<Segment>,
    wildcard: bool,
}

impl RoutePattern {
    /// Parses a route as written in `spin.toml`.
    pub fn parse(raw: &str) -> Result<Self, RouteError> {
        let absolute = if raw.starts_with('/') {
            raw.to_owned()
        } else {
            format!("/{raw}")
        };
        let (body, wildcard) = if absolute == "/..." || absolute == "/*" {
            ("", true)
        } else if let Some(prefix) = absolute
            .strip_suffix("/...")
            .or_else(|| absolute.strip_suffix("/*"))
        {
            (prefix, true)
        } else {
            (absolute.strip_suffix('/').unwrap_or(&absolute), false)
        };
        let segments = body
            .split('/')
            .skip(1)
            .map(|s| match s {
                "..." | "*" => Err(RouteError::WildcardNotLast),
                ":" => Err(RouteError::EmptyParameter),
                s => Ok(match s.strip_prefix(':') {
                    Some(name) => Segment::Param(name.to_owned()),
                    None => Segment::Literal(s.to_owned()),
                }),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            raw: raw.to_owned(),
            segments,
            wildcard,
        })
    }

    /// The route as written in the manifest.
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// The route without its trailing wildcard (`/x/...` → `/x`), as Spin's `spin-component-route`.
    pub fn prefix(&self) -> String {
        let mut out = String::new();
        for segment in &self.segments {
            out.push('/');
            match segment {
                Segment::Literal(s) => out.push_str(s),
                Segment::Param(s) => {
                    out.push(':');
                    out.push_str(s);
                }
            }
        }
        out
    }

    /// How specific the pattern is: exact before wildcard, then more segments, then more literals.
    fn rank(&self) -> (bool, usize, usize) {
        let literals = self
            .segments
            .iter()
            .filter(|s| matches!(s, Segment::Literal(_)))
            .count();
        (!self.wildcard, self.segments.len(), literals)
    }

    /// Matches `path` (no query), returning captured parameters and the path info.
    fn matches<'p>(&self, path: &'p str) -> Option<(Vec<(String, String)>, &'p str)> {
        let mut rest = Some(path.strip_prefix('/')?);
        let mut end = 0;
        let mut params = Vec::new();
        for segment in &self.segments {
            let current = rest?;
            let start = path.len() - current.len();
            let (head, tail) = match current.split_once('/') {
                Some((head, tail)) => (head, Some(tail)),
                None => (current, None),
            };
            match segment {
                Segment::Literal(l) if l == head => {}
                Segment::Param(name) if !head.is_empty() => {
                    params.push((name.clone(), head.to_owned()))
                }
                _ => return None,
            }
            end = start + head.len();
            rest = tail;
        }
        let info = &path[end..];
        if self.wildcard {
            Some((params, info))
        } else if info.is_empty() || info == "/" {
            Some((params, ""))
        } else {
            None
        }
    }
}

impl fmt::Display for RoutePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

/// The outcome of routing one request path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteMatch<'r, T> {
    /// What the route maps to (a component handle).
    pub target: &'r T,
    /// The pattern that matched.
    pub pattern: &'r RoutePattern,
    /// `:name` captures, in route order.
    pub params: Vec<(String, String)>,
    /// The part of the path below a wildcard route (Spin's `spin-path-info`); empty for exact routes.
    pub path_info: String,
}

/// A routing table from patterns to targets.
#[derive(Debug, Clone)]
pub struct Router<T> {
    routes: Vec<(RoutePattern, T)>,
}

impl<T> Router<T> {
    /// Builds a router; for duplicate patterns the later entry wins, as in Spin.
    pub fn new(routes: impl IntoIterator<Item = (RoutePattern, T)>) -> Self {
        let mut table: Vec<(RoutePattern, T)> = Vec::new();
        for (pattern, target) in routes {
            table.retain(|(p, _)| p.prefix() != pattern.prefix() || p.wildcard != pattern.wildcard);
            table.push((pattern, target));
        }
        // Most specific first; stable sort keeps manifest order among equals.
        table.sort_by_key(|(p, _)| std::cmp::Reverse(p.rank()));
        Self { routes: table }
    }

    /// The routes, most specific first.
    pub fn routes(&self) -> impl Iterator<Item = &(RoutePattern, T)> {
        self.routes.iter()
    }

    /// The best route for `path`, or `None` (→ 404).
    pub fn route(&self, path: &str) -> Option<RouteMatch<'_, T>> {
        self.routes.iter().find_map(|(pattern, target)| {
            pattern.matches(path).map(|(params, path_info)| RouteMatch {
                target,
                pattern,
                params,
                path_info: path_info.to_owned(),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router(routes: &[&str]) -> Router<String> {
        Router::new(
            routes
                .iter()
                .map(|r| (RoutePattern::parse(r).expect("valid route"), r.to_string())),
        )
    }

    /// (routes, path, expected route, expected path-info, expected params)
    type Case = (
        &'static [&'static str],
        &'static str,
        Option<&'static str>,
        &'static str,
        &'static [(&'static str, &'static str)],
    );

    #[test]
    fn routing_rules_table() {
        let table: &[Case] = &[
            (
                &["/cart", "/cart/checkout"],
                "/cart",
                Some("/cart"),
                "",
                &[],
            ),
            (
                &["/cart", "/cart/checkout"],
                "/cart/checkout",
                Some("/cart/checkout"),
                "",
                &[],
            ),
            (&["/cart"], "/cart/", Some("/cart"), "", &[]),
            (&["/cart"], "/cart/x", None, "", &[]),
            (&["/cart"], "/cartx", None, "", &[]),
            (&["/..."], "/", Some("/..."), "/", &[]),
            (&["/..."], "/a/b/", Some("/..."), "/a/b/", &[]),
            (&["/one/..."], "/one", Some("/one/..."), "", &[]),
            (&["/one/..."], "/one/", Some("/one/..."), "/", &[]),
            (&["/one/..."], "/one/two", Some("/one/..."), "/two", &[]),
            (&["/one/..."], "/onetwo", None, "", &[]),
            (
                &["/one/...", "/one/two/...", "/one/two/three/..."],
                "/one/two/three/four",
                Some("/one/two/three/..."),
                "/four",
                &[],
            ),
            (
                &["/one/two/three/...", "/one/two/...", "/one/..."],
                "/one/two/x",
                Some("/one/two/..."),
                "/x",
                &[],
            ),
            (&["/one", "/..."], "/one", Some("/one"), "", &[]),
            (&["/one", "/..."], "/two", Some("/..."), "/two", &[]),
            (
                &["/users/:id"],
                "/users/42",
                Some("/users/:id"),
                "",
                &[("id", "42")],
            ),
            (&["/users/:id"], "/users/", None, "", &[]),
            (&["/users/:id"], "/users/42/x", None, "", &[]),
            (
                &["/users/:id/..."],
                "/users/7/files/a.txt",
                Some("/users/:id/..."),
                "/files/a.txt",
                &[("id", "7")],
            ),
            (
                &["/users/:id", "/users/me"],
                "/users/me",
                Some("/users/me"),
                "",
                &[],
            ),
            (
                &["/a/:x/:y"],
                "/a/1/2",
                Some("/a/:x/:y"),
                "",
                &[("x", "1"), ("y", "2")],
            ),
            (&["/image/..."], "/index/map", None, "", &[]),
            (&["/"], "/", Some("/"), "", &[]),
            (&["/"], "/x", None, "", &[]),
            (&["noslash"], "/noslash", Some("noslash"), "", &[]),
        ];
        for (routes, path, expected, info, params) in table {
            let r = router(routes);
            let m = r.route(path);
            assert_eq!(
                m.as_ref().map(|m| m.target.as_str()),
                *expected,
                "routes {routes:?}, path {path}"
            );
            if let Some(m) = m {
                assert_eq!(m.path_info, *info, "path-info for {path} under {routes:?}");
                let got: Vec<(&str, &str)> = m
                    .params
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                assert_eq!(got, *params, "params for {path} under {routes:?}");
            }
        }
    }

    #[test]
    fn later_duplicate_wins() {
        let r = Router::new([
            (RoutePattern::parse("/x").expect("valid"), "first"),
            (RoutePattern::parse("/x/").expect("valid"), "second"),
        ]);
        assert_eq!(r.route("/x").map(|m| *m.target), Some("second"));
    }

    #[test]
    fn invalid_patterns() {
        assert_eq!(
            RoutePattern::parse("/a/.../b"),
            Err(RouteError::WildcardNotLast)
        );
        assert_eq!(
            RoutePattern::parse("/a/:/b"),
            Err(RouteError::EmptyParameter)
        );
    }

    #[test]
    fn prefix_drops_wildcard() {
        assert_eq!(
            RoutePattern::parse("/image/...").expect("valid").prefix(),
            "/image"
        );
        assert_eq!(RoutePattern::parse("/...").expect("valid").prefix(), "");
    }
}
