//! Scores where they are read: `score`/`tier`, rescoring triggers (`attach`, `attach_events`), scored views, the model as SQL.

pub mod attach;
pub mod attach_events;
pub mod model_sql;
pub mod scale_out;
pub mod score;
pub mod scored_view;
