//! An OTLP receiver for the export tests: a hyper server on 127.0.0.1:0
//! speaking HTTP/1.1 (`http/protobuf`) or HTTP/2 (gRPC), that keeps every
//! request and answers as the test asks (success by default).

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use rohas_telemetry::OtlpProtocol;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// One request as it arrived; `body` is the protobuf message (without
/// gRPC's 5-byte prefix).
#[derive(Debug, Clone)]
pub struct Got {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// How to answer the next request.
#[derive(Debug, Clone)]
pub enum Answer {
    Ok,
    /// An HTTP status with a `google.rpc.Status` body.
    Http(u16, &'static str),
    /// A gRPC status (trailers-only).
    Grpc(u32, &'static str),
    /// Success, but this many spans rejected, for this reason.
    Partial(i64, &'static str),
}

/// `google.rpc.Status`, the body of an OTLP/HTTP error.
#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
}

pub struct Receiver {
    pub addr: SocketAddr,
    got: Arc<Mutex<Vec<Got>>>,
    answers: Arc<Mutex<VecDeque<Answer>>>,
    /// Dropping it ends the server's tasks.
    _runtime: tokio::runtime::Runtime,
}

impl Receiver {
    pub fn start(protocol: OtlpProtocol) -> Receiver {
        Receiver::start_at(protocol, "127.0.0.1:0".parse().unwrap())
    }

    /// A receiver on a given address (to start one again where another was).
    pub fn start_at(protocol: OtlpProtocol, addr: SocketAddr) -> Receiver {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime.block_on(tokio::net::TcpListener::bind(addr)).unwrap();
        let addr = listener.local_addr().unwrap();
        let got = Arc::new(Mutex::new(Vec::new()));
        let answers = Arc::new(Mutex::new(VecDeque::new()));
        let (g, a) = (got.clone(), answers.clone());
        runtime.spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (g, a) = (g.clone(), a.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| answer(req, protocol, g.clone(), a.clone()));
                    let io = TokioIo::new(stream);
                    let _ = match protocol {
                        OtlpProtocol::Http => {
                            hyper::server::conn::http1::Builder::new()
                                .serve_connection(io, service)
                                .await
                        }
                        OtlpProtocol::Grpc => {
                            hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                                .serve_connection(io, service)
                                .await
                        }
                    };
                });
            }
        });
        Receiver {
            addr,
            got,
            answers,
            _runtime: runtime,
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Answers the next requests so, in order; then success again.
    pub fn answer_next(&self, answers: impl IntoIterator<Item = Answer>) {
        self.answers.lock().unwrap().extend(answers);
    }

    pub fn requests(&self) -> Vec<Got> {
        self.got.lock().unwrap().clone()
    }

    /// Every span received, with its batch's resource.
    pub fn spans(&self) -> Vec<(Resource, Span)> {
        let mut out = Vec::new();
        for got in self.requests().iter().filter(|g| g.path.contains("trace")) {
            let request =
                ExportTraceServiceRequest::decode(got.body.clone()).expect("a valid ExportTraceServiceRequest");
            for rs in request.resource_spans {
                let resource = rs.resource.clone().unwrap_or_default();
                for ss in rs.scope_spans {
                    out.extend(ss.spans.into_iter().map(|s| (resource.clone(), s)));
                }
            }
        }
        out
    }

    pub fn logs(&self) -> Vec<(Resource, LogRecord)> {
        let mut out = Vec::new();
        for got in self.requests().iter().filter(|g| g.path.contains("logs")) {
            let request = ExportLogsServiceRequest::decode(got.body.clone()).expect("a valid ExportLogsServiceRequest");
            for rl in request.resource_logs {
                let resource = rl.resource.clone().unwrap_or_default();
                for sl in rl.scope_logs {
                    out.extend(sl.log_records.into_iter().map(|l| (resource.clone(), l)));
                }
            }
        }
        out
    }
}

type Body = BoxBody<Bytes, Infallible>;

async fn answer(
    req: Request<Incoming>,
    protocol: OtlpProtocol,
    got: Arc<Mutex<Vec<Got>>>,
    answers: Arc<Mutex<VecDeque<Answer>>>,
) -> Result<Response<Body>, Infallible> {
    let path = req.uri().path().to_string();
    let headers = req.headers().clone();
    let mut body = req
        .into_body()
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    if protocol == OtlpProtocol::Grpc {
        assert_eq!(body[0], 0, "an uncompressed message");
        let len = u32::from_be_bytes(body[1..5].try_into().unwrap()) as usize;
        assert_eq!(len + 5, body.len(), "one length-prefixed message");
        body = body.slice(5..);
    }
    got.lock().unwrap().push(Got { path, headers, body });
    let next = answers.lock().unwrap().pop_front().unwrap_or(Answer::Ok);
    let response = match (protocol, next) {
        (OtlpProtocol::Http, Answer::Ok) => Response::builder()
            .header("content-type", "application/x-protobuf")
            .body(Full::new(Bytes::new()).boxed()),
        (OtlpProtocol::Http, Answer::Http(code, message)) => Response::builder()
            .status(code)
            .header("content-type", "application/x-protobuf")
            .body(
                Full::new(Bytes::from(
                    RpcStatus {
                        code: 3,
                        message: message.into(),
                    }
                    .encode_to_vec(),
                ))
                .boxed(),
            ),
        (OtlpProtocol::Grpc, Answer::Ok) => {
            // A message (an empty response: 5 bytes of prefix) and the
            // status in the trailers, as gRPC servers answer.
            let mut trailers = HeaderMap::new();
            trailers.insert("grpc-status", HeaderValue::from_static("0"));
            Response::builder().header("content-type", "application/grpc").body(
                Full::new(Bytes::from_static(&[0, 0, 0, 0, 0]))
                    .with_trailers(async move { Some(Ok(trailers)) })
                    .boxed(),
            )
        }
        (OtlpProtocol::Grpc, Answer::Grpc(code, message)) => Response::builder()
            .header("content-type", "application/grpc")
            .header("grpc-status", code.to_string())
            .header("grpc-message", message.replace(' ', "%20"))
            .body(Full::new(Bytes::new()).boxed()),
        (OtlpProtocol::Http, Answer::Partial(rejected, message)) => {
            let answer = ExportTraceServiceResponse {
                partial_success: Some(ExportTracePartialSuccess {
                    rejected_spans: rejected,
                    error_message: message.into(),
                }),
            };
            Response::builder()
                .header("content-type", "application/x-protobuf")
                .body(Full::new(Bytes::from(answer.encode_to_vec())).boxed())
        }
        (OtlpProtocol::Grpc, Answer::Partial(rejected, message)) => {
            let answer = ExportTraceServiceResponse {
                partial_success: Some(ExportTracePartialSuccess {
                    rejected_spans: rejected,
                    error_message: message.into(),
                }),
            };
            let mut framed = vec![0];
            framed.extend_from_slice(&(answer.encoded_len() as u32).to_be_bytes());
            framed.extend_from_slice(&answer.encode_to_vec());
            let mut trailers = HeaderMap::new();
            trailers.insert("grpc-status", HeaderValue::from_static("0"));
            Response::builder().header("content-type", "application/grpc").body(
                Full::new(Bytes::from(framed))
                    .with_trailers(async move { Some(Ok(trailers)) })
                    .boxed(),
            )
        }
        (_, Answer::Http(code, _)) => Response::builder().status(code).body(Full::new(Bytes::new()).boxed()),
        (_, Answer::Grpc(..)) => Response::builder()
            .status(StatusCode::OK)
            .body(Full::new(Bytes::new()).boxed()),
    };
    Ok(response.unwrap())
}
