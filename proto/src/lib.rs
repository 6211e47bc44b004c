//! Credence gRPC wire types, generated from `proto/credence/v1/*.proto`.
