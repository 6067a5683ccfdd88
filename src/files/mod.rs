//! Static files under ROOT (SPEC §4): resolving a request path safely, content types,
//! conditional and range requests, directory listings. Nothing here touches mio.

pub mod cond;
pub mod listing;
pub mod mime;
pub mod resolve;
