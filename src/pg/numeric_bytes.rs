//! Reading a `numeric` value stored in a row straight from its bytes, without a call into
//! Postgres: a guarded `numeric_float8` call per value (plus pgrx's copy of the datum) was a
//! visible part of the rescoring trigger's cost per row. Only values whose conversion
//! is exact in one IEEE operation are read here; every other value (NaN, infinities, more than
//! 15 significant digits, large exponents) returns `None` and goes through Postgres, so the
//! result is always the same double `numeric_float8` gives (both are correctly rounded).
//!
//! Layout (PostgreSQL 15, src/backend/utils/adt/numeric.c), after the varlena header: a
//! 16-bit header word; the short format packs sign, display scale and a 7-bit weight into it,
//! the long format has the sign and scale in it and the weight in a following int16. Then the
//! base-10000 digits (int16 each), most significant first; value = sum d[i] * 10000^(weight-i).

const SIGN_MASK: u16 = 0xC000;
const NEG: u16 = 0x4000;
const SHORT: u16 = 0x8000;
const SPECIAL: u16 = 0xC000;
const SHORT_SIGN_MASK: u16 = 0x2000;
const SHORT_WEIGHT_SIGN_MASK: u16 = 0x0040;
const SHORT_WEIGHT_MASK: u16 = 0x003F;

/// Powers of ten that a double holds exactly.
const EXACT_POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21,
    1e22,
];

/// The value of a numeric's body (the bytes after its varlena header), when it converts to a
/// double exactly in one multiplication or division; `None` otherwise.
pub fn exact_f64(body: &[u8]) -> Option<f64> {
    let word = |i: usize| -> Option<u16> { Some(u16::from_le_bytes([*body.get(i)?, *body.get(i + 1)?])) };
    let header = word(0)?;
    let flags = header & SIGN_MASK;
    let (negative, weight, digits_at) = match flags {
        SPECIAL => return None,
        SHORT => {
            let weight = if header & SHORT_WEIGHT_SIGN_MASK != 0 {
                (header | !SHORT_WEIGHT_MASK) as i16
            } else {
                (header & SHORT_WEIGHT_MASK) as i16
            };
            (header & SHORT_SIGN_MASK != 0, i32::from(weight), 2)
        }
        _ => (flags == NEG, i32::from(word(2)? as i16), 4),
    };
    let digits = &body[digits_at.min(body.len())..];
    if !digits.len().is_multiple_of(2) {
        return None;
    }
    let ndigits = digits.len() / 2;
    if ndigits == 0 {
        return Some(0.0);
    }
    if ndigits > 4 {
        return None;
    }
    let mut mantissa: u64 = 0;
    for i in 0..ndigits {
        let d = u16::from_le_bytes([digits[2 * i], digits[2 * i + 1]]);
        if d >= 10_000 {
            return None;
        }
        mantissa = mantissa * 10_000 + u64::from(d);
    }
    // Exact below 2^53: then one correctly rounded operation gives the correctly rounded value.
    if mantissa > (1u64 << 53) {
        return None;
    }
    let exponent = 4 * (weight - (ndigits as i32 - 1));
    let m = mantissa as f64;
    let magnitude = match exponent {
        0 => m,
        e if (1..=22).contains(&e) => m * EXACT_POW10[e as usize],
        e if (-22..0).contains(&e) => m / EXACT_POW10[(-e) as usize],
        _ => return None,
    };
    Some(if negative { -magnitude } else { magnitude })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Encodes a decimal string as Postgres stores it (short format when it fits), the way
    /// numeric.c's make_result does: base-10000 digits without leading or trailing zero digits.
    fn encode(text: &str, force_long: bool) -> Vec<u8> {
        let negative = text.starts_with('-');
        let text = text.trim_start_matches('-');
        let (int_part, frac_part) = text.split_once('.').unwrap_or((text, ""));
        let dscale = frac_part.len() as u16;
        // Pad the integer part on the left and the fraction on the right to groups of 4.
        let int_pad = (4 - int_part.len() % 4) % 4;
        let int_digits: String = "0".repeat(int_pad) + int_part;
        let frac_digits: String = frac_part.to_string() + &"0".repeat((4 - frac_part.len() % 4) % 4);
        let mut groups: Vec<u16> = int_digits
            .as_bytes()
            .chunks(4)
            .chain(frac_digits.as_bytes().chunks(4))
            .map(|c| std::str::from_utf8(c).unwrap().parse().unwrap())
            .collect();
        let mut weight = (int_digits.len() / 4) as i32 - 1;
        while groups.first() == Some(&0) {
            groups.remove(0);
            weight -= 1;
        }
        while groups.last() == Some(&0) {
            groups.pop();
        }
        if groups.is_empty() {
            weight = 0;
        }
        let mut out = Vec::new();
        let fits_short = !force_long && dscale <= 0x3F && (-64..=63).contains(&weight);
        if fits_short {
            let mut header = SHORT | (dscale << 7) | ((weight as i16 as u16) & (SHORT_WEIGHT_MASK | SHORT_WEIGHT_SIGN_MASK));
            if negative {
                header |= SHORT_SIGN_MASK;
            }
            out.extend_from_slice(&header.to_le_bytes());
        } else {
            let header = if negative { NEG } else { 0 } | dscale;
            out.extend_from_slice(&header.to_le_bytes());
            out.extend_from_slice(&(weight as i16).to_le_bytes());
        }
        for g in groups {
            out.extend_from_slice(&g.to_le_bytes());
        }
        out
    }

    #[test]
    fn reads_values_as_strtod_does() {
        for text in [
            "0",
            "1",
            "-1",
            "7",
            "12",
            "12.5",
            "-3.25",
            "0.1",
            "0.0001",
            "0.00001",
            "29.9",
            "123456789.123",
            "-0.000123",
            "10000",
            "100000000",
            "9007199254740992",
            "1234567890123.456",
            "0.30000000000000004",
        ] {
            for force_long in [false, true] {
                let bytes = encode(text, force_long);
                let expected: f64 = text.parse().unwrap();
                match exact_f64(&bytes) {
                    Some(v) => assert_eq!(v.to_bits(), expected.to_bits(), "{text} (long: {force_long})"),
                    None => assert!(text.replace(['.', '-'], "").trim_matches('0').len() > 15, "{text} should be read"),
                }
            }
        }
    }

    #[test]
    fn leaves_hard_values_to_postgres() {
        // More digits than a double holds exactly, an exponent beyond 10^22, and NaN.
        assert_eq!(exact_f64(&encode("1234567890.1234567", false)), None);
        let big = encode(&format!("1{}", "0".repeat(40)), false);
        assert_eq!(exact_f64(&big), None);
        assert_eq!(exact_f64(&0xC000u16.to_le_bytes()), None);
        assert_eq!(exact_f64(&[0x00]), None);
    }

    #[test]
    fn small_and_large_exponents() {
        let tiny = format!("0.{}1", "0".repeat(30));
        assert_eq!(exact_f64(&encode(&tiny, false)), None);
        assert_eq!(exact_f64(&encode("1000000000000000000000", false)), Some(1e21));
    }

    #[test]
    fn zero_has_no_digits() {
        assert_eq!(exact_f64(&encode("0", false)), Some(0.0));
        assert_eq!(exact_f64(&encode("0.000", true)), Some(0.0));
    }
}
