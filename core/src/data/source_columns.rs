//! A source's columns as the SQL layer describes them (name, SQL type, how the type is treated),
//! so the rules about which columns can be features live in the core.

use crate::data::values::FeatureKind;

/// How a source column's type is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnClass {
    Numeric {
        integer: bool,
    },
    Text,
    Boolean,
    /// uuid: an identifier, never a feature.
    Uuid,
    /// date / timestamp / timestamptz: a time split key, or a date feature when named in `features`.
    Temporal,
    Unsupported,
}

impl ColumnClass {
    pub fn feature_kind(self) -> Option<FeatureKind> {
        match self {
            ColumnClass::Numeric { .. } => Some(FeatureKind::Numeric),
            ColumnClass::Text => Some(FeatureKind::Categorical),
            ColumnClass::Boolean => Some(FeatureKind::Boolean),
            ColumnClass::Temporal => Some(FeatureKind::Date),
            _ => None,
        }
    }
}

/// One column of a source.
#[derive(Debug, Clone)]
pub struct SourceColumn {
    pub name: String,
    /// The SQL type as Postgres names it (for messages).
    pub type_name: String,
    pub class: ColumnClass,
}
