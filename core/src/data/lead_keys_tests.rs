use super::*;

#[test]
fn hashes_are_stable_and_spread() {
    // Pinned: a stored version's hashes must keep matching in every later release.
    assert_eq!(lead_key_hash("1001"), PINNED_1001);
    assert_ne!(lead_key_hash("1001"), lead_key_hash("1002"));
    let distinct: std::collections::HashSet<u64> = (0..100_000).map(|i| lead_key_hash(&i.to_string())).collect();
    assert_eq!(distinct.len(), 100_000);
}

const PINNED_1001: u64 = 14_217_634_372_262_132_528;

fn sample() -> (Vec<u64>, Vec<Part>) {
    let keys: Vec<u64> = (0..1000).map(|i| lead_key_hash(&format!("lead-{i}"))).collect();
    let parts = (0..1000)
        .map(|i| match i % 10 {
            0 => Part::Test,
            1 => Part::Validation,
            _ => Part::Train,
        })
        .collect();
    (keys, parts)
}

#[test]
fn every_key_answers_its_part_and_unseen_keys_none() {
    let (keys, parts) = sample();
    let pk = PartKeys::from_rows(&keys, &parts).unwrap();
    for (k, p) in keys.iter().zip(&parts) {
        assert_eq!(pk.part_of(*k), Some(*p));
    }
    assert_eq!(pk.part_of(lead_key_hash("lead-1000")), None);
    assert_eq!((pk.count(Part::Train), pk.count(Part::Validation), pk.count(Part::Test)), (800, 100, 100));
    assert_eq!(pk.shared(), 0);
    assert!(PartKeys::from_rows(&keys[1..], &parts).is_err());
}

#[test]
fn encoding_round_trips_at_eight_bytes_a_lead() {
    let (keys, parts) = sample();
    let pk = PartKeys::from_rows(&keys, &parts).unwrap();
    let bytes = pk.encode();
    assert_eq!(bytes.len(), 28 + 8 * 1000);
    assert_eq!(PartKeys::decode(&bytes).unwrap(), pk);
}

#[test]
fn damaged_bytes_are_errors_not_panics() {
    let (keys, parts) = sample();
    let bytes = PartKeys::from_rows(&keys, &parts).unwrap().encode();
    for bad in [&bytes[..0], &bytes[..27], &bytes[..bytes.len() - 1], b"LSK2aaaaaaaaaaaaaaaaaaaaaaaa".as_slice()] {
        assert!(PartKeys::decode(bad).unwrap_err().message.contains("unreadable"));
    }
    let mut huge = bytes.clone();
    huge[4..12].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(PartKeys::decode(&huge).is_err());
    // Swapping two hashes of the train part breaks the order binary search relies on.
    let mut unsorted = bytes.clone();
    let (a, b) = (28, 36);
    let first: [u8; 8] = unsorted[a..a + 8].try_into().unwrap();
    let second: [u8; 8] = unsorted[b..b + 8].try_into().unwrap();
    unsorted[a..a + 8].copy_from_slice(&second);
    unsorted[b..b + 8].copy_from_slice(&first);
    assert!(PartKeys::decode(&unsorted).unwrap_err().message.contains("sorted"));
}

#[test]
fn a_key_in_two_parts_is_counted_and_answers_the_first() {
    let k = lead_key_hash("dup");
    let pk = PartKeys::from_rows(&[k, k, lead_key_hash("x")], &[Part::Test, Part::Train, Part::Test]).unwrap();
    assert_eq!(pk.shared(), 1);
    assert_eq!(pk.part_of(k), Some(Part::Train));
}

#[test]
fn time_ranges_per_part() {
    let times = [Some(5.0), Some(1.0), None, Some(9.0), Some(3.0)];
    let parts = [Part::Validation, Part::Train, Part::Train, Part::Test, Part::Train];
    let r = part_time_ranges(&times, &parts);
    assert_eq!(r, [Some((1.0, 3.0)), Some((5.0, 5.0)), Some((9.0, 9.0))]);
}

/// README's size claim: a million leads take 8 bytes each plus the 28-byte header.
#[test]
fn a_million_leads_take_eight_bytes_each() {
    let n = 1_000_000;
    let keys: Vec<u64> = (0..n).map(|i| lead_key_hash(&i.to_string())).collect();
    let parts: Vec<Part> = (0..n).map(|i| Part::ALL[usize::from(i % 10 >= 8) + usize::from(i % 10 == 9)]).collect();
    let pk = PartKeys::from_rows(&keys, &parts).unwrap();
    assert_eq!((pk.count(Part::Train), pk.count(Part::Validation), pk.count(Part::Test)), (800_000, 100_000, 100_000));
    let bytes = pk.encode();
    assert_eq!(bytes.len(), 8_000_028);
    let back = PartKeys::decode(&bytes).unwrap();
    assert_eq!(back.part_of(lead_key_hash("999999")), Some(Part::Test));
    assert_eq!(back.part_of(lead_key_hash("1000000")), None);
}
