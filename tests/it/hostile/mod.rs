//! Hostile input and hostile specs (issue 11): each test is one thing an
//! attacker or a careless user sent that once took standin down or past a
//! bound, and what standin answers now.

mod boundary;
mod lifecycle;
mod queries;
mod specs;
mod transport;
