//! The one function every fuzz engine and the tests call (filled in by the fuzz workflow).
