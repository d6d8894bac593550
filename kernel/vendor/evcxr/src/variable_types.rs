// dl-kernel patch: the types of a cell's new variables, read from the compile of the cell itself.
//
// Upstream asks rust-analyzer for them before compiling, which first loads the sources of the
// standard library and of every dependency and resolves names in all of them (seconds, and
// hundreds of MiB kept). Here the cell is compiled with its new variables stored under the type
// rustc infers (`put_variable::<_>`), and each store is preceded by `&v as &_` under
// `#[warn(trivial_casts)]`: rustc's warning "trivial cast: `&T` as `&T`" names `T` after
// inference (integer fallback included). Later cells load the variable as that `T`.
//
// rustc prints a name without its path when the name is unique in the crate graph
// (`ArrayBase`, `HashMap`). Such a name may not be in scope in a later cell. When it is not
// (rustc says "cannot find type"), the name is qualified with a path guessed from the value's
// `std::any::type_name`, which the cell reports when it stores a new variable
// ([`candidate_paths`]); a guess that fails gives way to the next one. The path that worked is
// kept in `type_paths` for the rest of the session, and the kernel keeps the table of its
// template for new sessions.

use crate::errors::CompilationError;
use std::collections::HashMap;

/// The statement placed before a new variable is stored, so that rustc names its type.
pub(crate) fn type_probe(variable_name: &str) -> String {
    format!("#[warn(trivial_casts)] let _ = &{variable_name} as &_;")
}

/// The type named by a `trivial_casts` warning on a [`type_probe`], if `error` is one.
pub(crate) fn type_from_probe_warning(error: &CompilationError) -> Option<String> {
    if error.level() != "warning" || error.code() != Some("trivial_casts") {
        return None;
    }
    let message = error.message();
    let rest = message.strip_prefix("trivial cast: `&")?;
    let (ty, _) = rest.split_once("` as `")?;
    Some(ty.to_owned())
}

/// Why a type rustc printed cannot be written in a later cell, if it cannot.
pub(crate) fn unnameable_reason(ty: &str) -> Option<&'static str> {
    if ty.contains("{closure") {
        Some("closure")
    } else if ty.contains("impl ") {
        Some("opaque")
    } else if ty.contains('{') {
        // A function item (`fn(i32) -> i32 {double}`), an async block, a coroutine.
        Some("unnamed")
    } else {
        None
    }
}

/// `ty` with every bare name found in `paths` replaced by its full path. A name is bare when
/// it starts a path (it does not follow `::`) and is not a lifetime.
pub(crate) fn qualify(ty: &str, paths: &HashMap<String, String>) -> String {
    let mut out = String::with_capacity(ty.len());
    let mut chars = ty.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        if !(c.is_alphabetic() || c == '_') {
            out.push(c);
            continue;
        }
        let mut end = start + c.len_utf8();
        while let Some(&(at, next)) = chars.peek() {
            if next.is_alphanumeric() || next == '_' {
                end = at + next.len_utf8();
                chars.next();
            } else {
                break;
            }
        }
        let word = &ty[start..end];
        let after_path_separator = out.ends_with("::");
        let is_lifetime = out.ends_with('\'');
        match paths.get(word) {
            Some(path) if !after_path_separator && !is_lifetime => out.push_str(path),
            _ => out.push_str(word),
        }
    }
    out
}

/// Whether `error` says that a name used as a type (or a module on its path) is not in scope
/// or not visible: in generated code that loads or stores a variable, a name of its type.
pub(crate) fn names_a_missing_type(error: &CompilationError) -> bool {
    match error.code() {
        Some("E0412" | "E0433" | "E0405" | "E0422" | "E0603") => true,
        Some("E0425") => error.message().starts_with("cannot find type"),
        _ => false,
    }
}

/// The names in backquotes in a compiler message (`cannot find type `Dim` in this scope`).
pub(crate) fn quoted_names(message: &str) -> Vec<&str> {
    message.split('`').skip(1).step_by(2).collect()
}

/// Where `name` (printed bare by rustc) may be imported from, best guess first, read from the
/// type's full name as `std::any::type_name` gives it (`ndarray::data_repr::OwnedRepr<f32>`):
/// the crate root (`ndarray::OwnedRepr`, where most crates re-export their types), then each
/// module on the way down to where it is defined (std's `HashMap` is
/// `std::collections::HashMap`). `crate_paths` says how a cell names a crate that it does not
/// depend on directly (`ndarray` through `dl_core::ndarray`); `core` and `alloc` are `std`.
pub(crate) fn candidate_paths(
    name: &str,
    full_type: &str,
    crate_paths: &HashMap<String, String>,
) -> Vec<String> {
    let mut candidates = Vec::new();
    for path in paths_in(full_type) {
        let Some((last, modules)) = path.split_last() else {
            continue;
        };
        if *last != name || modules.is_empty() {
            continue;
        }
        let krate = match modules[0] {
            "core" | "alloc" => "std",
            other => crate_paths.get(other).map_or(other, String::as_str),
        };
        for depth in 1..=modules.len() {
            let mut candidate = krate.to_owned();
            for module in &modules[1..depth] {
                candidate.push_str("::");
                candidate.push_str(module);
            }
            candidate.push_str("::");
            candidate.push_str(name);
            if !candidates.contains(&candidate) {
                candidates.push(candidate);
            }
        }
    }
    candidates
}

/// The paths (`a::b::C`) in a type's full name, as lists of segments.
fn paths_in(ty: &str) -> Vec<Vec<&str>> {
    let mut paths = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    let mut rest = ty;
    while !rest.is_empty() {
        let word_len = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if word_len > 0 {
            current.push(&rest[..word_len]);
            rest = &rest[word_len..];
            if let Some(after) = rest.strip_prefix("::") {
                rest = after;
                continue;
            }
        } else {
            rest = &rest[rest.chars().next().map_or(1, char::len_utf8)..];
        }
        if !current.is_empty() {
            paths.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        paths.push(current);
    }
    paths
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qualify_replaces_bare_names_only() {
        let paths = HashMap::from([
            (
                "ArrayBase".to_owned(),
                "dl_core::ndarray::ArrayBase".to_owned(),
            ),
            ("Dim".to_owned(), "dl_core::ndarray::Dim".to_owned()),
            ("a".to_owned(), "never".to_owned()),
        ]);
        assert_eq!(
            qualify("ArrayBase<OwnedRepr<f32>, Dim<IxDynImpl>>", &paths),
            "dl_core::ndarray::ArrayBase<OwnedRepr<f32>, dl_core::ndarray::Dim<IxDynImpl>>"
        );
        assert_eq!(qualify("other::Dim", &paths), "other::Dim");
        assert_eq!(qualify("Foo<'a, Dimension>", &paths), "Foo<'a, Dimension>");
        assert_eq!(
            qualify("(Dim, [Dim; 2])", &paths),
            "(dl_core::ndarray::Dim, [dl_core::ndarray::Dim; 2])"
        );
    }

    #[test]
    fn candidates_from_the_full_type_name() {
        let crates = HashMap::from([("ndarray".to_owned(), "dl_core::ndarray".to_owned())]);
        let full = "ndarray::ArrayBase<ndarray::data_repr::OwnedRepr<f32>, \
                    ndarray::dimension::dim::Dim<ndarray::dimension::dynindex::IxDynImpl>, f32>";
        assert_eq!(
            candidate_paths("OwnedRepr", full, &crates),
            [
                "dl_core::ndarray::OwnedRepr",
                "dl_core::ndarray::data_repr::OwnedRepr"
            ]
        );
        assert_eq!(
            candidate_paths("ArrayBase", full, &crates),
            ["dl_core::ndarray::ArrayBase"]
        );
        let map = "std::collections::hash::map::HashMap<alloc::string::String, i32>";
        assert_eq!(
            candidate_paths("HashMap", map, &crates),
            [
                "std::HashMap",
                "std::collections::HashMap",
                "std::collections::hash::HashMap",
                "std::collections::hash::map::HashMap"
            ]
        );
        assert!(candidate_paths("Missing", map, &crates).is_empty());
        assert_eq!(
            quoted_names("cannot find type `Dim` in crate `ndarray`"),
            ["Dim", "ndarray"]
        );
    }

    #[test]
    fn unnameable_types() {
        assert_eq!(
            unnameable_reason("{closure@src/lib.rs:3:9: 3:12}"),
            Some("closure")
        );
        assert_eq!(
            unnameable_reason("Map<std::slice::Iter<'_, i32>, {closure@src/lib.rs:3:9}>"),
            Some("closure")
        );
        assert_eq!(
            unnameable_reason("fn(i32) -> i32 {double}"),
            Some("unnamed")
        );
        assert_eq!(
            unnameable_reason("impl Iterator<Item = i32>"),
            Some("opaque")
        );
        assert_eq!(unnameable_reason("HashMap<String, Vec<f32>>"), None);
    }
}
