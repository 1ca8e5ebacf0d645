//! The pest parser generated from grammar/vpl.pest.

#[derive(pest_derive::Parser)]
#[grammar = "../../grammar/vpl.pest"]
pub struct VplGrammar;
