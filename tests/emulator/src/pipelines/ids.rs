//! Identifiers shaped like the service's: pipelines, updates and events have UUIDs; an update's
//! cluster id looks like a job cluster's (`MMDD-HHMMSS-xxxxxxxx`).

use crate::clock::civil_from_epoch_ms;

/// The workspace id events carry in `origin.org_id`.
pub(crate) const ORG_ID: u64 = 1_234_567_890_123_456;

fn format_uuid(bits: u128) -> String {
    let hex = format!("{bits:032x}");
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

/// A fresh random (version 4) UUID.
pub(crate) fn random_uuid() -> String {
    let bits = rand::random::<u128>();
    format_uuid((bits & !(0xf << 76) | (0x4 << 76)) & !(0x3 << 62) | (0x2 << 62))
}

/// SplitMix64's finaliser: spreads every input bit over the whole output, so similar keys
/// (`.../update/1`, `.../update/2`) give unrelated-looking ids.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A UUID that is always the same for the same `key` (seeded ids, event ids): two mixed FNV-1a hashes.
pub(crate) fn derived_uuid(key: &str) -> String {
    let fnv = |seed: u64| mix(key.bytes().fold(seed, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)));
    let bits = (u128::from(fnv(0xcbf2_9ce4_8422_2325)) << 64) | u128::from(fnv(0x8422_2325_cbf2_9ce4));
    format_uuid((bits & !(0xf << 76) | (0x4 << 76)) & !(0x3 << 62) | (0x2 << 62))
}

/// The cluster an update runs on, named after its start time and update id.
pub(crate) fn cluster_id(now: u64, update_id: &str) -> String {
    let (_, month, day, hour, minute, second) = civil_from_epoch_ms(now);
    let suffix: String = update_id.chars().filter(char::is_ascii_alphanumeric).take(8).collect();
    format!("{month:02}{day:02}-{hour:02}{minute:02}{second:02}-{suffix}")
}

/// The first six characters of an update id, as the service shows them in event messages.
pub(crate) fn short(update_id: &str) -> &str {
    update_id.get(..6).unwrap_or(update_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_have_the_canonical_shape() {
        for id in [random_uuid(), derived_uuid("x")] {
            let lens: Vec<usize> = id.split('-').map(str::len).collect();
            assert_eq!(lens, vec![8, 4, 4, 4, 12], "{id}");
            assert_eq!(id.as_bytes()[14], b'4', "{id}");
        }
        assert_eq!(derived_uuid("a"), derived_uuid("a"));
        assert_ne!(derived_uuid("a"), derived_uuid("b"));
    }
}
