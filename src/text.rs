//! Messages built by joining pieces: `core::fmt` (what `format!` uses) costs kilobytes of wasm,
//! and every message here is a few strings and a number at most.

use alloc::string::String;

/// The pieces, one after the other.
///
/// ```
/// use wx_session::text::{join, number};
/// assert_eq!(join(&["no answer within ", &number(1500), " ms"]), "no answer within 1500 ms");
/// ```
pub fn join(parts: &[&str]) -> String {
    let mut out = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for part in parts {
        out.push_str(part);
    }
    out
}

/// A whole number in decimal.
pub fn number(n: u64) -> String {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = n;
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    digits[at..].iter().map(|&d| char::from(d)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_like_display() {
        for n in [0, 7, 10, 401, 1_700_000_000_000, u64::MAX] {
            assert_eq!(number(n), n.to_string());
        }
    }
}
