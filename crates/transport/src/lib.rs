//! gar-transport
