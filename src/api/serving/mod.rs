//! Scores where they are read: `score`/`tier`, `expected_value`, rescoring triggers (`attach`, `attach_events`), scored views, the model as SQL.

pub mod attach;
pub mod attach_events;
pub mod expected_value;
pub mod model_sql;
pub mod scale_out;
pub mod score;
pub mod scored_view;
