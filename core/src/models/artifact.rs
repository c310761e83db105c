//! The serialized model: a versioned envelope with a checksum, so a corrupt, truncated or
//! foreign bytea is a clear error and never a crash or a silently wrong score.
//!
//! Layout: 8-byte magic `LSMODEL\0`, format version (u16 LE), CRC-32 of the body (u32 LE), then
//! the body: bincode (standard config) of [`Envelope`].

use serde::{Deserialize, Serialize};

use crate::core_err;
use crate::models::model::LeadModel;
use crate::CoreResult;

const MAGIC: &[u8; 8] = b"LSMODEL\0";
/// Bumped whenever the body's layout changes; older formats get a migration or a clear error.
/// 2: log scaling, quantile bins, date features and interaction terms in the preprocessor.
pub const FORMAT_VERSION: u16 = 2;
const HEADER: usize = 8 + 2 + 4;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Envelope {
    algorithm: String,
    crate_version: String,
    model: LeadModel,
}

/// Serializes a model into its envelope.
pub fn encode_model(model: &LeadModel) -> Vec<u8> {
    let envelope = Envelope {
        algorithm: model.estimator.algorithm().to_string(),
        crate_version: env!("CARGO_PKG_VERSION").to_string(),
        model: model.clone(),
    };
    let body = bincode::serde::encode_to_vec(&envelope, bincode::config::standard()).expect("models always serialize");
    let mut out = Vec::with_capacity(HEADER + body.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

/// Reads a model back, checking magic, format version and checksum first, and the decoded model
/// after ([`crate::models::model_checks`]).
pub fn decode_model(bytes: &[u8]) -> CoreResult<LeadModel> {
    if bytes.len() < HEADER || &bytes[..8] != MAGIC {
        return Err(core_err!(CorruptArtifact, "model artifact is not a lead_scoring model (bad header)"));
    }
    let version = u16::from_le_bytes([bytes[8], bytes[9]]);
    if version != FORMAT_VERSION {
        return Err(core_err!(
            Unsupported,
            "model artifact has format version {version}, this build of lead_scoring reads version {FORMAT_VERSION}; retrain the model"
        ));
    }
    let expected = u32::from_le_bytes([bytes[10], bytes[11], bytes[12], bytes[13]]);
    let body = &bytes[HEADER..];
    if crc32fast::hash(body) != expected {
        return Err(core_err!(CorruptArtifact, "model artifact is corrupt (checksum mismatch)"));
    }
    let (envelope, used): (Envelope, usize) = bincode::serde::decode_from_slice(body, bincode::config::standard())
        .map_err(|e| core_err!(CorruptArtifact, "model artifact is corrupt: {e}"))?;
    if used != body.len() {
        return Err(core_err!(CorruptArtifact, "model artifact is corrupt (trailing bytes)"));
    }
    crate::models::model_checks::check_model(&envelope.model)?;
    Ok(envelope.model)
}

/// Packs (score, label) pairs: row count (u64 LE), the scores (f64 LE), one byte per label.
/// Used for a model's stored validation predictions and for parallel aggregate states.
pub fn encode_scored_labels(scores: &[f64], labels: &[bool]) -> Vec<u8> {
    debug_assert_eq!(scores.len(), labels.len());
    let mut out = Vec::with_capacity(8 + scores.len() * 9);
    out.extend_from_slice(&(scores.len() as u64).to_le_bytes());
    for s in scores {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out.extend(labels.iter().map(|&l| l as u8));
    out
}

/// Reads back what [`encode_scored_labels`] wrote.
pub fn decode_scored_labels(bytes: &[u8]) -> CoreResult<(Vec<f64>, Vec<bool>)> {
    let n = bytes
        .get(..8)
        .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")) as usize)
        .ok_or_else(|| core_err!(CorruptArtifact, "stored predictions are corrupt (no length)"))?;
    if n.checked_mul(9).and_then(|x| x.checked_add(8)) != Some(bytes.len()) {
        return Err(core_err!(CorruptArtifact, "stored predictions are corrupt (length mismatch)"));
    }
    let scores = bytes[8..8 + n * 8].chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes"))).collect();
    let labels = bytes[8 + n * 8..].iter().map(|&b| b != 0).collect();
    Ok((scores, labels))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::FeatureKind;
    use crate::data::{FeatureTransform, Preprocessor, Scaling};
    use crate::models::logistic::LogisticFit;
    use crate::models::model::Estimator;

    fn model() -> LeadModel {
        LeadModel {
            preprocessor: Preprocessor {
                features: vec![
                    FeatureTransform::Numeric {
                        name: "visits".into(),
                        log: false,
                        scaling: Scaling { median: 3.0, mean: 3.5, scale: 2.0, indicator: true },
                    },
                    FeatureTransform::Categorical {
                        name: "source".into(),
                        kind: FeatureKind::Categorical,
                        levels: vec!["Google".into()],
                    },
                ],
                missing_values: vec!["".into()],
                impute_numeric: true,
                interactions: Vec::new(),
            },
            estimator: Estimator::Logistic(LogisticFit {
                intercept: -0.5,
                coefficients: vec![0.1, 0.2, 0.3, -0.4],
                iterations: 5,
                converged: true,
                objective: 12.5,
            }),
            calibration: crate::models::calibration::Calibration::Platt { a: -1.1, b: 0.2 },
            input_means: vec![0.0, 0.1, 0.5, 0.4],
            segments: None,
        }
    }

    #[test]
    fn scored_labels_round_trip_and_reject_corruption() {
        let bytes = encode_scored_labels(&[0.25, 0.75, 1.0], &[false, true, true]);
        assert_eq!(decode_scored_labels(&bytes).unwrap(), (vec![0.25, 0.75, 1.0], vec![false, true, true]));
        assert!(decode_scored_labels(&bytes[..bytes.len() - 1]).is_err());
        assert!(decode_scored_labels(&[1, 2]).is_err());
    }

    #[test]
    fn round_trip() {
        let m = model();
        assert_eq!(decode_model(&encode_model(&m)).unwrap(), m);
    }

    #[test]
    fn corruption_is_detected() {
        let mut bytes = encode_model(&model());
        let last = bytes.len() - 1;
        bytes[last] ^= 0xFF;
        let kind = crate::ErrorKind::CorruptArtifact;
        let err = decode_model(&bytes).unwrap_err();
        assert!(err.message.contains("checksum") && err.kind == kind, "{err:?}");
        let err = decode_model(b"not a model at all").unwrap_err();
        assert!(err.message.contains("header") && err.kind == kind, "{err:?}");
        let truncated = &encode_model(&model())[..20];
        assert_eq!(decode_model(truncated).unwrap_err().kind, kind);
        // Another format version is not corrupt: this build cannot read it.
        let mut future = encode_model(&model());
        future[8] = 99;
        let err = decode_model(&future).unwrap_err();
        assert!(err.message.contains("format version 99") && err.kind == crate::ErrorKind::Unsupported, "{err:?}");
    }
}
