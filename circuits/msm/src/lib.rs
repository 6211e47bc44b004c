pub mod msm;
