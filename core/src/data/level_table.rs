//! The coefficient (or one-hot slot) of each level of a text column, found in one probe for the short values
//! CRM columns hold ("Google", "Olark Chat", "Landing Page Submission"). Scoring a row looks
//! up every text feature, and a general hash map spent most of that time hashing the value and
//! calling `memcmp` on the match; here a value of up to 16 bytes is compared as two machine
//! words plus its length (together they cover every byte), and only longer values compare
//! their middle bytes.

/// A level's length and the two words that, with the length, identify a value of up to 16
/// bytes exactly: the first and last 8 bytes (overlapping when shorter than 16), or for
/// shorter values enough bytes to cover them all.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Key {
    len: usize,
    head: u64,
    tail: u64,
}

impl Key {
    #[inline]
    fn of(bytes: &[u8]) -> Key {
        let n = bytes.len();
        let word = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
        let half = |at: usize| u64::from(u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes")));
        let (head, tail) = match n {
            8.. => (word(0), word(n - 8)),
            4..=7 => (half(0), half(n - 4)),
            1..=3 => (u64::from(bytes[0]) | u64::from(bytes[n / 2]) << 8 | u64::from(bytes[n - 1]) << 16, 0),
            0 => (0, 0),
        };
        Key { len: n, head, tail }
    }

    #[inline]
    fn hash(&self) -> u64 {
        (self.head ^ self.tail.rotate_left(29) ^ (self.len as u64).wrapping_mul(0x0100_0000_01b3))
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }
}

struct Slot<T> {
    key: Key,
    /// The whole value, compared only when it is longer than 16 bytes.
    bytes: Box<[u8]>,
    coefficient: T,
}

/// An open-addressing table from a level's bytes to what the level stands for: its
/// coefficient in a logistic plan, its input slot in the preprocessing.
pub struct LevelTable<T: Copy = f64> {
    slots: Vec<Option<Slot<T>>>,
    /// Right shift that turns a hash into a slot index (the table size is a power of two).
    shift: u32,
}

impl<T: Copy> LevelTable<T> {
    /// A table of `levels`; a level given twice keeps the last coefficient given.
    pub fn new<'a>(levels: impl IntoIterator<Item = (&'a str, T)>) -> LevelTable<T> {
        let levels: Vec<(&str, T)> = levels.into_iter().collect();
        // At most a quarter full: a probe usually ends at its first slot, so the branch that
        // checks for a match is predictable (scoring does ten lookups per row).
        let size = (4 * levels.len()).next_power_of_two().max(8);
        let mut table = LevelTable { slots: (0..size).map(|_| None).collect(), shift: 64 - size.trailing_zeros() };
        for (level, coefficient) in levels {
            table.insert(level.as_bytes(), coefficient);
        }
        table
    }

    fn insert(&mut self, bytes: &[u8], coefficient: T) {
        let at = self.probe(bytes);
        match &mut self.slots[at] {
            Some(slot) => slot.coefficient = coefficient,
            empty @ None => *empty = Some(Slot { key: Key::of(bytes), bytes: bytes.into(), coefficient }),
        }
    }

    /// The coefficient of `value`, if it is one of the levels.
    #[inline]
    pub fn get(&self, value: &[u8]) -> Option<T> {
        self.slots[self.probe(value)].as_ref().map(|slot| slot.coefficient)
    }

    /// The slot that holds `value`, or the empty slot where it would go.
    #[inline]
    fn probe(&self, value: &[u8]) -> usize {
        let key = Key::of(value);
        let mask = self.slots.len() - 1;
        let mut at = (key.hash() >> self.shift) as usize;
        // Equal keys are equal values up to 16 bytes; longer ones compare their middle too.
        while let Some(slot) = &self.slots[at] {
            if slot.key == key && (key.len <= 16 || slot.bytes[8..key.len - 8] == value[8..key.len - 8]) {
                break;
            }
            at = (at + 1) & mask;
        }
        at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_level_of_every_length_and_nothing_else() {
        // Values of every length from 0 to 40 that differ in one byte anywhere.
        let mut levels: Vec<String> = Vec::new();
        for n in 0..=40usize {
            let base: String = (0..n).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
            levels.push(base.clone());
            for at in 0..n {
                let mut changed = base.clone().into_bytes();
                changed[at] = b'Z';
                levels.push(String::from_utf8(changed).unwrap());
            }
        }
        let table = LevelTable::new(levels.iter().enumerate().map(|(i, l)| (l.as_str(), i as f64)));
        for (i, level) in levels.iter().enumerate() {
            assert_eq!(table.get(level.as_bytes()), Some(i as f64), "{level:?}");
            let mut other = level.clone();
            other.push('!');
            assert_eq!(table.get(other.as_bytes()), None, "{other:?}");
        }
        assert_eq!(table.get(b"not a level at all, and long"), None);
    }

    #[test]
    fn a_level_given_again_keeps_the_last_coefficient_and_utf8_works() {
        let table = LevelTable::new([("Google", 1.0), ("Olark Chat", 2.0), ("Google", 3.0), ("Zürich", 4.0), ("", 5.0)]);
        assert_eq!(table.get(b"Google"), Some(3.0));
        assert_eq!(table.get(b"Olark Chat"), Some(2.0));
        assert_eq!(table.get("Zürich".as_bytes()), Some(4.0));
        assert_eq!(table.get(b""), Some(5.0));
        assert_eq!(table.get(b"google"), None);
        let empty = LevelTable::<f64>::new([]);
        assert_eq!(empty.get(b"x"), None);
    }
}
