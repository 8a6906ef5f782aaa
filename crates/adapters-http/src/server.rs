//! Building the app and running the server.

use std::net::TcpListener;

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};

use crate::state::HttpState;
use crate::{metrics, problem, request_id, routes};

/// How long a graceful stop waits for in-flight requests.
pub const SHUTDOWN_TIMEOUT_SECS: u64 = 30;

/// The whole app: state, routes, and the middlewares, outermost first: request id and span,
/// metrics, problem normalisation. Tests pass it to `actix_web::test::init_service`.
pub fn app(
    state: web::Data<HttpState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .app_data(state)
        .configure(routes::configure)
        .wrap(from_fn(problem::normalize))
        .wrap(from_fn(metrics::track))
        .wrap(from_fn(request_id::assign))
}

/// Starts serving on `listener` (bind port 0 in tests) with `workers` worker threads. The state
/// is built once by the caller and shared by every worker. Await the returned server; stop it
/// gracefully with `server.handle().stop(true)` (in-flight requests get
/// [`SHUTDOWN_TIMEOUT_SECS`] to finish). Actix also stops gracefully on SIGTERM and SIGINT.
pub fn serve(listener: TcpListener, state: HttpState, workers: usize) -> std::io::Result<Server> {
    let state = web::Data::new(state);
    let server = HttpServer::new(move || app(state.clone()))
        .workers(workers.max(1))
        .shutdown_timeout(SHUTDOWN_TIMEOUT_SECS)
        .listen(listener)?
        .run();
    Ok(server)
}
