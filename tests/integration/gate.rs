//! A watch that lags on purpose: a layer on the in-process operator's kube client that holds
//! back the QuotaRequirement and CloudAccount watch events of the objects named, and lets them through, in order,
//! when released. It makes the state an API server restart leaves for a few seconds (a cache
//! behind the server for some objects and current for others) happen exactly when a test wants.

use std::{
    collections::{HashMap, VecDeque},
    pin::Pin,
    sync::{Arc, Mutex},
    task::{Context, Poll, Waker},
};

use bytes::{Bytes, BytesMut};
use futures::future::BoxFuture;
use http::{Request, Response};
use http_body::{Body, Frame};
use tower::{Layer, Service};

/// Which of an object's events are held.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Hold {
    /// Every event: the operator does not know the object exists.
    All,
    /// Changes after it was added: the operator's copy stays as it was first seen.
    Changes,
}

#[derive(Clone, Default)]
pub struct Gate(Arc<Mutex<GateState>>);

#[derive(Default)]
struct GateState {
    held: HashMap<String, Hold>,
    /// Bodies waiting for a release.
    waiting: Vec<Waker>,
    /// Releases so far: a body that looked before the latest one looks again.
    releases: u64,
}

impl Gate {
    pub fn hold(&self, name: &str, hold: Hold) {
        self.0.lock().unwrap().held.insert(name.into(), hold);
    }

    /// Lets `name`'s held events through and every later one.
    pub fn release(&self, name: &str) {
        let mut state = self.0.lock().unwrap();
        state.held.remove(name);
        state.releases += 1;
        for waker in state.waiting.drain(..) {
            waker.wake();
        }
    }

    fn holds(&self, name: &str, added: bool) -> bool {
        match self.0.lock().unwrap().held.get(name) {
            Some(Hold::All) => true,
            Some(Hold::Changes) => !added,
            None => false,
        }
    }

    fn is_held(&self, name: &str) -> bool {
        self.0.lock().unwrap().held.contains_key(name)
    }

    fn releases(&self) -> u64 {
        self.0.lock().unwrap().releases
    }

    /// Wakes the body at the next release, or now if one came since it looked (`seen`).
    fn wait(&self, waker: &Waker, seen: u64) {
        let mut state = self.0.lock().unwrap();
        if state.releases != seen {
            waker.wake_by_ref();
        } else if !state.waiting.iter().any(|w| w.will_wake(waker)) {
            state.waiting.push(waker.clone());
        }
    }
}

impl<S> Layer<S> for Gate {
    type Service = Gated<S>;

    fn layer(&self, inner: S) -> Gated<S> {
        Gated {
            inner,
            gate: self.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Gated<S> {
    inner: S,
    gate: Gate,
}

impl<S, B> Service<Request<kube::client::Body>> for Gated<S>
where
    S: Service<Request<kube::client::Body>, Response = Response<B>>,
    S::Future: Send + 'static,
    B: Body<Data = Bytes> + Unpin,
{
    type Response = Response<GatedBody<B>>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<kube::client::Body>) -> Self::Future {
        let uri = req.uri();
        // QuotaRequirements and CloudAccounts (their names never collide in a test: accounts
        // get unique names).
        let gated = ["/quotarequirements", "/cloudaccounts"];
        let watch = gated.iter().any(|kind| uri.path().ends_with(kind))
            && uri.query().is_some_and(|q| q.contains("watch=true"));
        let gate = watch.then(|| self.gate.clone());
        let response = self.inner.call(req);
        Box::pin(async move {
            let response = response.await?;
            Ok(response.map(|inner| GatedBody {
                inner,
                gate,
                partial: BytesMut::new(),
                ready: VecDeque::new(),
                held: VecDeque::new(),
                ended: false,
            }))
        })
    }
}

/// A watch response whose events (one JSON document a line) pass or wait as the gate says.
pub struct GatedBody<B> {
    inner: B,
    gate: Option<Gate>,
    partial: BytesMut,
    ready: VecDeque<Bytes>,
    held: VecDeque<(String, Bytes)>,
    ended: bool,
}

impl<B: Body<Data = Bytes> + Unpin> GatedBody<B> {
    /// Moves released events, in the order they came, to the ready queue.
    fn pass_released(&mut self, gate: &Gate) {
        let mut still = VecDeque::new();
        for (name, line) in self.held.drain(..) {
            if gate.is_held(&name) {
                still.push_back((name, line));
            } else {
                self.ready.push_back(line);
            }
        }
        self.held = still;
    }

    fn sort(&mut self, gate: &Gate, data: Bytes) {
        self.partial.extend_from_slice(&data);
        while let Some(end) = self.partial.iter().position(|b| *b == b'\n') {
            let line = self.partial.split_to(end + 1).freeze();
            let Some((name, added)) = object_of(&line) else {
                self.ready.push_back(line);
                continue;
            };
            // An object's events keep their order: a later one waits behind a held one.
            if gate.holds(&name, added) || self.held.iter().any(|(n, _)| *n == name) {
                self.held.push_back((name, line));
            } else {
                self.ready.push_back(line);
            }
        }
    }
}

/// The object a watch event is about, and whether it is its ADDED event.
fn object_of(line: &[u8]) -> Option<(String, bool)> {
    let event: serde_json::Value = serde_json::from_slice(line).ok()?;
    let name = event["object"]["metadata"]["name"].as_str()?.to_string();
    Some((name, event["type"] == "ADDED"))
}

impl<B: Body<Data = Bytes> + Unpin> Body for GatedBody<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let this = &mut *self;
        let Some(gate) = this.gate.clone() else {
            return Pin::new(&mut this.inner).poll_frame(cx);
        };
        loop {
            let seen = gate.releases();
            this.pass_released(&gate);
            if let Some(line) = this.ready.pop_front() {
                return Poll::Ready(Some(Ok(Frame::data(line))));
            }
            if this.ended {
                if this.held.is_empty() {
                    return Poll::Ready(None);
                }
                gate.wait(cx.waker(), seen);
                return Poll::Pending;
            }
            match Pin::new(&mut this.inner).poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                    Ok(data) => this.sort(&gate, data),
                    Err(frame) => return Poll::Ready(Some(Ok(frame))),
                },
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(None) => this.ended = true,
                Poll::Pending => {
                    // A release must wake this body even while the server sends nothing.
                    gate.wait(cx.waker(), seen);
                    return Poll::Pending;
                }
            }
        }
    }
}
