//! Versions and the people around them: `deploy`, `rollback`, `retire`, approvals, the card
//! people write and the decision log, rep feedback, scheduled jobs, the model card.

pub mod approvals;
pub mod feedback;
pub mod model_card;
pub mod schedule;
pub mod versions;
