//! The serialized model: a versioned envelope with a checksum, so a corrupt, truncated or
//! foreign bytea is a clear error and never a crash or a silently wrong score.
//!
//! Layout: 8-byte magic `LSMODEL\0`, format version (u16 LE), CRC-32 of the body (u32 LE), then
//! the body: bincode (standard config) of [`Envelope`] (formats 3 and 4) or of the older
//! envelope without the model's name and version (format 2, still read so installed models score).
//!
//! Format 3 binds the artifact to the model name and version it was trained as: a valid
//! artifact copied into another row of `lead_scoring.models` (another model, another version)
//! is refused on load instead of scoring with the wrong model.

use serde::{Deserialize, Serialize};

use crate::core_err;
use crate::models::model::LeadModel;
use crate::CoreResult;

const MAGIC: &[u8; 8] = b"LSMODEL\0";
/// Bumped whenever the body's layout changes; older formats get a migration or a clear error.
/// 2: log scaling, quantile bins, date features and interaction terms in the preprocessor.
/// 3: the envelope names the model and version the artifact belongs to.
/// 4: boosted trees are LightGBM's model text (estimator variant 2). Formats 2 and 3 hold
///    forust-ml's JSON (variant 1): still read, and scored bit for bit as before
///    (`forust_json.rs`), so an upgrade keeps every model working.
pub const FORMAT_VERSION: u16 = 4;
/// Format 3: the same envelope as format 4.
const FORUST_FORMAT_VERSION: u16 = 3;
/// The previous format, read for models trained before format 3 (not bound to a name).
const UNBOUND_FORMAT_VERSION: u16 = 2;
const HEADER: usize = 8 + 2 + 4;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Envelope {
    algorithm: String,
    crate_version: String,
    model_name: String,
    model_version: i32,
    model: LeadModel,
}

/// The format 2 envelope: the same without the binding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct UnboundEnvelope {
    algorithm: String,
    crate_version: String,
    model: LeadModel,
}

fn with_header(format: u16, body: Vec<u8>) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER + body.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&format.to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

/// Serializes a model into its envelope, bound to the model name and version it is stored as.
pub fn encode_model(model: &LeadModel, model_name: &str, model_version: i32) -> Vec<u8> {
    let envelope = Envelope {
        algorithm: model.estimator.algorithm().to_string(),
        crate_version: env!("CARGO_PKG_VERSION").to_string(),
        model_name: model_name.to_string(),
        model_version,
        model: model.clone(),
    };
    let body = bincode::serde::encode_to_vec(&envelope, bincode::config::standard()).expect("models always serialize");
    with_header(FORMAT_VERSION, body)
}

/// The format 2 artifact (no name and version), as builds before format 3 wrote it; kept so
/// tests can check that such models are still read.
pub fn encode_unbound_model(model: &LeadModel) -> Vec<u8> {
    let envelope = UnboundEnvelope {
        algorithm: model.estimator.algorithm().to_string(),
        crate_version: env!("CARGO_PKG_VERSION").to_string(),
        model: model.clone(),
    };
    let body = bincode::serde::encode_to_vec(&envelope, bincode::config::standard()).expect("models always serialize");
    with_header(UNBOUND_FORMAT_VERSION, body)
}

/// What a bincode decoding error means for a reader, without Rust's debug text (a `Utf8Error {`
/// or a type name says nothing to someone looking at a model table).
fn decode_failure(e: &bincode::error::DecodeError) -> &'static str {
    use bincode::error::DecodeError as D;
    match e {
        D::UnexpectedEnd { .. } => "it ends early (truncated)",
        D::Utf8 { .. } => "a text field is not valid UTF-8",
        D::UnexpectedVariant { .. } | D::InvalidBooleanValue(_) | D::InvalidCharEncoding(_) => {
            "a field holds a value its type does not allow"
        }
        D::LimitExceeded | D::OutsideUsizeRange(_) => "a length is larger than the artifact",
        _ => "its body does not decode",
    }
}

fn decode_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> CoreResult<T> {
    let (value, used): (T, usize) = bincode::serde::decode_from_slice(body, bincode::config::standard())
        .map_err(|e| core_err!(CorruptArtifact, "model artifact is corrupt: {}", decode_failure(&e)))?;
    if used != body.len() {
        return Err(core_err!(CorruptArtifact, "model artifact is corrupt (trailing bytes)"));
    }
    Ok(value)
}

/// Reads a model back (see [`decode_model_as`]) without checking whose it is: for tools and
/// tests that hold an artifact outside the catalog.
pub fn decode_model(bytes: &[u8]) -> CoreResult<LeadModel> {
    decode_envelope(bytes).map(|(model, _)| model)
}

/// Reads the artifact stored for `model_name` version `model_version`, and refuses one that
/// was trained as another model or version (a format 3 artifact copied between rows). Format 2
/// artifacts carry no name and are read as before.
pub fn decode_model_as(bytes: &[u8], model_name: &str, model_version: i32) -> CoreResult<LeadModel> {
    let (model, owner) = decode_envelope(bytes)?;
    if let Some((name, version)) = owner {
        if name != model_name || version != model_version {
            return Err(core_err!(
                CorruptArtifact,
                "model artifact belongs to model \"{name}@{version}\", not to this row (a copied artifact); retrain or restore the row"
            ));
        }
    }
    Ok(model)
}

/// The model and, for format 3, the name and version it was trained as.
fn decode_envelope(bytes: &[u8]) -> CoreResult<(LeadModel, Option<(String, i32)>)> {
    if bytes.len() < HEADER || &bytes[..8] != MAGIC {
        return Err(core_err!(CorruptArtifact, "model artifact is not a lead_scoring model (bad header)"));
    }
    let version = u16::from_le_bytes([bytes[8], bytes[9]]);
    if !(UNBOUND_FORMAT_VERSION..=FORMAT_VERSION).contains(&version) {
        return Err(core_err!(
            Unsupported,
            "model artifact has format version {version}, this build of lead_scoring reads versions {UNBOUND_FORMAT_VERSION} to {FORMAT_VERSION}; retrain the model"
        ));
    }
    let expected = u32::from_le_bytes([bytes[10], bytes[11], bytes[12], bytes[13]]);
    let body = &bytes[HEADER..];
    if crc32fast::hash(body) != expected {
        return Err(core_err!(CorruptArtifact, "model artifact is corrupt (checksum mismatch)"));
    }
    let (model, owner) = if version == FORMAT_VERSION || version == FORUST_FORMAT_VERSION {
        let e: Envelope = decode_body(body)?;
        (e.model, Some((e.model_name, e.model_version)))
    } else {
        let e: UnboundEnvelope = decode_body(body)?;
        (e.model, None)
    };
    crate::models::model_checks::check_model(&model)?;
    Ok((model, owner))
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
                level_index: Default::default(),
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
        assert_eq!(decode_model(&encode_model(&m, "inbound", 3)).unwrap(), m);
        assert_eq!(decode_model_as(&encode_model(&m, "inbound", 3), "inbound", 3).unwrap(), m);
    }

    #[test]
    fn a_foreign_artifact_is_refused_and_the_old_format_still_reads() {
        let m = model();
        let bound = encode_model(&m, "inbound", 3);
        for (name, version) in [("outbound", 3), ("inbound", 2), ("inbound ", 3)] {
            let err = decode_model_as(&bound, name, version).unwrap_err();
            assert!(
                err.message.contains("belongs to model \"inbound@3\"") && err.kind == crate::ErrorKind::CorruptArtifact,
                "{err:?}"
            );
        }
        // Format 2 artifacts name no model: read as they were, for any row.
        let old = encode_unbound_model(&m);
        assert_eq!(u16::from_le_bytes([old[8], old[9]]), 2);
        assert_eq!(decode_model_as(&old, "anything", 7).unwrap(), m);
    }

    /// The layout format 3 wrote (derived serde, as before LightGBM): the estimator's variant 1
    /// was forust-ml's boosted trees, holding forust's JSON.
    #[derive(Serialize)]
    enum Format3Estimator {
        Logistic(LogisticFit),
        Gbm(String),
    }

    #[derive(Serialize)]
    struct Format3Model {
        preprocessor: Preprocessor,
        estimator: Format3Estimator,
        calibration: crate::models::calibration::Calibration,
        input_means: Vec<f64>,
        segments: Option<()>,
    }

    fn format_3_artifact(estimator: Format3Estimator) -> Vec<u8> {
        let m = model();
        let model = Format3Model {
            preprocessor: m.preprocessor,
            estimator,
            calibration: m.calibration,
            input_means: m.input_means,
            segments: None,
        };
        let envelope = (String::from("gbm"), String::from("0.1.0"), String::from("g"), 1i32, model);
        with_header(3, bincode::serde::encode_to_vec(&envelope, bincode::config::standard()).unwrap())
    }

    #[test]
    fn a_forust_model_of_format_3_still_scores_and_encodes_back_as_forust() {
        let json = r#"{"base_score": -0.5, "missing": null, "trees": [{"nodes": [{"num": 0, "weight_value": 0.25,
            "hessian_sum": 8.0, "depth": 0, "split_value": 0.0, "split_feature": 0, "split_gain": 0.0, "missing_node": 0,
            "left_child": 0, "right_child": 0, "is_leaf": true}]}]}"#;
        let old = format_3_artifact(Format3Estimator::Gbm(json.into()));
        let m = decode_model_as(&old, "g", 1).unwrap();
        let Estimator::Gbm(trees) = &m.estimator else { panic!("{m:?}") };
        assert!(trees.is_forust());
        assert_eq!(m.estimator.log_odds(&[0.0; 4]), -0.25);
        // Re-encoded (format 4) it is the same forust model, not a LightGBM one.
        assert_eq!(decode_model(&encode_model(&m, "g", 1)).unwrap(), m);
        let Estimator::Logistic(fit) = model().estimator else { unreachable!() };
        assert_eq!(decode_model_as(&format_3_artifact(Format3Estimator::Logistic(fit)), "g", 1).unwrap(), model());
    }

    #[test]
    fn a_decoding_error_has_no_rust_debug_text() {
        // A text field's bytes made invalid UTF-8, with the checksum recomputed: the message
        // says what is wrong in words.
        let mut bytes = encode_model(&model(), "inbound", 3);
        let at = bytes.windows(7).position(|w| w == b"inbound").unwrap();
        bytes[at] = 0xFF;
        let crc = crc32fast::hash(&bytes[HEADER..]).to_le_bytes();
        bytes[10..14].copy_from_slice(&crc);
        let err = decode_model(&bytes).unwrap_err();
        assert_eq!(err.message, "model artifact is corrupt: a text field is not valid UTF-8");
        let truncated = &bytes[..bytes.len() / 2];
        let mut fixed = truncated.to_vec();
        let crc = crc32fast::hash(&fixed[HEADER..]).to_le_bytes();
        fixed[10..14].copy_from_slice(&crc);
        let err = decode_model(&fixed).unwrap_err();
        assert!(!err.message.contains('{') && !err.message.contains("Some("), "{err:?}");
    }

    #[test]
    fn corruption_is_detected() {
        let mut bytes = encode_model(&model(), "m", 1);
        let last = bytes.len() - 1;
        bytes[last] ^= 0xFF;
        let kind = crate::ErrorKind::CorruptArtifact;
        let err = decode_model(&bytes).unwrap_err();
        assert!(err.message.contains("checksum") && err.kind == kind, "{err:?}");
        let err = decode_model(b"not a model at all").unwrap_err();
        assert!(err.message.contains("header") && err.kind == kind, "{err:?}");
        let truncated = &encode_model(&model(), "m", 1)[..20];
        assert_eq!(decode_model(truncated).unwrap_err().kind, kind);
        // Another format version is not corrupt: this build cannot read it.
        let mut future = encode_model(&model(), "m", 1);
        future[8] = 99;
        let err = decode_model(&future).unwrap_err();
        assert!(err.message.contains("format version 99") && err.kind == crate::ErrorKind::Unsupported, "{err:?}");
    }
}
