//! Versions and the people around them: `deploy`, `rollback`, `retire`, rep feedback, scheduled jobs, the model card.

pub mod feedback;
pub mod model_card;
pub mod schedule;
pub mod versions;
