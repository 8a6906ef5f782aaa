//! Free text from clients (names, addresses, reasons).

/// Whether `text` holds a control character (NUL, escape, line breaks, ...). None belongs in a
/// name, an address or a reason, and PostgreSQL cannot store NUL at all, so constructors refuse
/// such text as invalid input instead of failing later in the store.
pub fn has_control_chars(text: &str) -> bool {
    text.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_found() {
        assert!(has_control_chars("a\u{0}b"));
        assert!(has_control_chars("line\nbreak"));
        assert!(!has_control_chars("홍길동 101호"));
    }
}
