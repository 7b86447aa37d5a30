//! What the fuzz targets share: reading choices from the fuzzer's bytes ([`Input`]) and writing
//! the same choices back as bytes ([`Script`], for the seed corpus), plain-data generators
//! ([`gen`]), the README's server profiles ([`profiles`]), answer fields ([`fields`]) and the
//! machine's event schedule, played on the shared fake platform of `wx_session::testing`
//! ([`machine`]).
//!
//! Every choice reads a fixed number of bytes and a missing byte reads as 0, so any input is a
//! schedule (a short one ends early) and a [`Script`] writes exactly what [`Input`] reads back.

pub mod fields;
pub mod gen;
pub mod machine;
pub mod profiles;

/// The mark every token the fake server issues starts and ends with. Strings the fuzzer makes
/// never contain it, so an error message that holds an issued token really leaked it. ASCII: a
/// token is visible ASCII only; no message of the core's that a session can raise has a `~`.
pub const MARK: char = '~';

/// The fuzzer's bytes, read as choices.
pub struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    pub fn new(data: &'a [u8]) -> Input<'a> {
        Input { data }
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((first, rest)) => {
                self.data = rest;
                *first
            }
            None => 0,
        }
    }

    /// Up to `n` bytes (fewer when the input ends).
    pub fn bytes(&mut self, n: usize) -> &'a [u8] {
        let (taken, rest) = self.data.split_at(n.min(self.data.len()));
        self.data = rest;
        taken
    }

    /// One of `n` (at most 256) choices.
    pub fn choice(&mut self, n: usize) -> usize {
        debug_assert!((1..=256).contains(&n));
        usize::from(self.byte()) % n.max(1)
    }

    /// `true` about `percent` times in 100; a missing byte is `false`.
    pub fn chance(&mut self, percent: u32) -> bool {
        u32::from(self.byte()) >= 256 - percent * 256 / 100
    }

    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.byte(), self.byte()])
    }

    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.byte(), self.byte(), self.byte(), self.byte()])
    }

    pub fn u64(&mut self) -> u64 {
        u64::from(self.u32()) | u64::from(self.u32()) << 32
    }

    /// A number: one of [`NUMBERS`], or any `f64` bit pattern.
    pub fn number(&mut self) -> f64 {
        match NUMBERS.get(self.choice(NUMBERS.len() + 1)) {
            Some(n) => *n,
            None => f64::from_bits(self.u64()),
        }
    }

    /// A number, mostly one of `favourites`.
    pub fn number_from(&mut self, favourites: &[f64]) -> f64 {
        match favourites.get(self.choice(favourites.len() + 1)) {
            Some(n) => *n,
            None => self.number(),
        }
    }

    /// Up to 255 bytes of text (invalid UTF-8 replaced, [`MARK`] removed).
    pub fn text(&mut self) -> String {
        let len = usize::from(self.byte());
        clean(&String::from_utf8_lossy(self.bytes(len)))
    }

    /// One of `words`, or any [`Input::text`].
    pub fn word(&mut self, words: &[&str]) -> String {
        match words.get(self.choice(words.len() + 1)) {
            Some(word) => (*word).to_string(),
            None => self.text(),
        }
    }
}

/// `text` without [`MARK`].
pub fn clean(text: &str) -> String {
    text.replace(MARK, "?")
}

/// Writes the bytes an [`Input`] reads back as the given choices (for the seed corpus).
#[derive(Default)]
pub struct Script {
    pub bytes: Vec<u8>,
}

impl Script {
    pub fn new() -> Script {
        Script::default()
    }

    pub fn byte(&mut self, b: u8) -> &mut Self {
        self.bytes.push(b);
        self
    }

    pub fn raw(&mut self, bytes: &[u8]) -> &mut Self {
        self.bytes.extend_from_slice(bytes);
        self
    }

    pub fn choice(&mut self, i: usize) -> &mut Self {
        self.byte(u8::try_from(i).expect("a choice is one byte"))
    }

    pub fn chance(&mut self, yes: bool) -> &mut Self {
        self.byte(if yes { 255 } else { 0 })
    }

    pub fn u16(&mut self, n: u16) -> &mut Self {
        self.raw(&n.to_le_bytes())
    }

    pub fn u32(&mut self, n: u32) -> &mut Self {
        self.raw(&n.to_le_bytes())
    }

    pub fn u64(&mut self, n: u64) -> &mut Self {
        self.raw(&n.to_le_bytes())
    }

    pub fn number(&mut self, n: f64) -> &mut Self {
        match NUMBERS.iter().position(|m| m.to_bits() == n.to_bits()) {
            Some(i) => self.choice(i),
            None => self.choice(NUMBERS.len()).u64(n.to_bits()),
        }
    }

    pub fn number_from(&mut self, favourites: &[f64], n: f64) -> &mut Self {
        match favourites.iter().position(|m| m.to_bits() == n.to_bits()) {
            Some(i) => self.choice(i),
            None => self.choice(favourites.len()).number(n),
        }
    }

    pub fn text(&mut self, text: &str) -> &mut Self {
        assert!(text.len() <= 255 && !text.contains(MARK), "{text:?} cannot be read back");
        self.choice(text.len()).raw(text.as_bytes())
    }

    pub fn word(&mut self, words: &[&str], word: &str) -> &mut Self {
        match words.iter().position(|w| *w == word) {
            Some(i) => self.choice(i),
            None => self.choice(words.len()).text(word),
        }
    }
}

/// Numbers that sit on the edges the core checks: whole or not, u32 and status bounds, the
/// timeout and retry limits, times in ms, huge, negative, non-finite.
pub const NUMBERS: &[f64] = &[
    0.0,
    -0.0,
    1.0,
    2.0,
    -1.0,
    0.5,
    1.5,
    10.0,
    11.0,
    60.0,
    99.0,
    100.0,
    200.0,
    401.0,
    500.0,
    999.0,
    1000.0,
    7200.0,
    10_000.0,
    40_001.0,
    120_000.0,
    120_001.0,
    4_294_967_295.0,
    4_294_967_296.0,
    1.7e12,
    9e15,
    9_007_199_254_740_993.0,
    1e20,
    18_446_744_073_709_551_615.0,
    1e300,
    f64::MAX,
    f64::MIN_POSITIVE,
    -1.7e12,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::NAN,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_script_reads_back_as_written() {
        let mut s = Script::new();
        s.choice(3).chance(true).chance(false).u16(513).u32(7).u64(u64::MAX).number(1.5).number(3.25).text("abc").word(&["x", "y"], "y").word(&["x"], "z");
        let mut input = Input::new(&s.bytes);
        assert_eq!(input.choice(5), 3);
        assert!(input.chance(1));
        assert!(!input.chance(99));
        assert_eq!((input.u16(), input.u32(), input.u64()), (513, 7, u64::MAX));
        assert_eq!((input.number(), input.number()), (1.5, 3.25));
        assert_eq!(input.text(), "abc");
        assert_eq!(input.word(&["x", "y"]), "y");
        assert_eq!(input.word(&["x"]), "z");
        assert!(input.is_empty());
    }
}
