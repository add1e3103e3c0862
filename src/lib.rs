//! The root package only carries the suites under `tests/`.
