//! Oversized requests are the caller's mistake: tonic refuses a message
//! above [`crate::server::MAX_REQUEST_BYTES`] with OUT_OF_RANGE before any
//! handler runs; this layer restates that refusal as INVALID_ARGUMENT with a
//! field violation on `request`, like every other bad input.

use std::task::{Context, Poll};

use crate::error::ApiError;

const TONIC_TOO_LARGE: &str = "Error, decoded message length too large";

/// A tower layer that rewrites tonic's message-too-large refusal.
#[derive(Debug, Clone, Copy, Default)]
pub struct OversizeLayer;

impl<S> tower::Layer<S> for OversizeLayer {
    type Service = Oversize<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Oversize { inner }
    }
}

/// The service made by [`OversizeLayer`].
#[derive(Debug, Clone)]
pub struct Oversize<S> {
    inner: S,
}

fn restate<R>(response: &mut http::Response<R>) {
    let headers = response.headers_mut();
    let out_of_range = headers.get("grpc-status").is_some_and(|v| v == "11");
    let too_large = headers
        .get("grpc-message")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|m| {
            m.starts_with(TONIC_TOO_LARGE)
                || m.starts_with("Error,%20decoded%20message%20length%20too%20large")
        });
    if !(out_of_range && too_large) {
        return;
    }
    let status: tonic::Status = ApiError::invalid(
        "request",
        format!(
            "message larger than the limit of {} bytes",
            crate::server::MAX_REQUEST_BYTES
        ),
    )
    .into();
    for name in ["grpc-status", "grpc-message", "grpc-status-details-bin"] {
        headers.remove(name);
    }
    let _ = status.add_header(headers);
}

impl<S, B, R> tower::Service<http::Request<B>> for Oversize<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<R>> + Send,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Self::Response, Self::Error>> + Send>,
    >;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let future = self.inner.call(request);
        Box::pin(async move {
            let mut response = future.await?;
            restate(&mut response);
            Ok(response)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic_types::StatusExt;

    #[test]
    fn a_too_large_message_is_restated_as_an_invalid_request() {
        let mut response = http::Response::new(());
        tonic::Status::out_of_range(format!(
            "{TONIC_TOO_LARGE}: found 70000 bytes, the limit is: 65536 bytes"
        ))
        .add_header(response.headers_mut())
        .expect("headers");
        restate(&mut response);
        let status = tonic::Status::from_header_map(response.headers()).expect("status");
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        let details = status.get_error_details();
        assert_eq!(
            details.bad_request().expect("details").field_violations[0].field,
            "request"
        );
    }

    #[test]
    fn other_refusals_pass_unchanged() {
        let mut response = http::Response::new(());
        tonic::Status::out_of_range("month out of range")
            .add_header(response.headers_mut())
            .expect("headers");
        restate(&mut response);
        let status = tonic::Status::from_header_map(response.headers()).expect("status");
        assert_eq!(status.code(), tonic::Code::OutOfRange);
    }
}
