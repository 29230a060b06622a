//! Building an image from a recipe: plan and fetch the inputs, stream them
//! into the root file system, add what the OS needs generated, lay out the
//! disk, install boot code, and put the finished file in place atomically.

pub mod capture;
pub mod freebsd;
pub mod netbsd;
pub mod packages;
pub mod pipeline;
pub mod recipe_files;
pub mod request;
pub mod seed;
pub mod users;
