//! Data before a model: the audit scorecard, the feature building blocks, the demo CRM.

pub mod audit;
pub mod demo;
pub mod features;
