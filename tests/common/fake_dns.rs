//! A scripted DNS responder on a loopback UDP port, for the cases a real server will not
//! produce on demand (SERVFAIL, silence) and for tests that need no rig. Shared by the unit
//! tests of `engine::verify::dns` (through `#[path]`) and the integration tests.

#![allow(dead_code)]
use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use hickory_resolver::proto::op::{Message, ResponseCode};
use hickory_resolver::proto::rr::rdata::{A, AAAA, MX};
use hickory_resolver::proto::rr::{Name, RData, Record, RecordType};
use tokio::net::UdpSocket;

#[derive(Clone, Debug)]
pub enum Answer {
    Mx(Vec<(u16, &'static str)>),
    A(Ipv4Addr),
    Aaaa(Ipv6Addr),
    Code(ResponseCode),
    Silence,
}

/// Serve `zone` (lower-case name without dot, record type) until the test ends. Names not
/// listed get NXDOMAIN; a listed name without the asked type gets NOERROR with no answer.
pub async fn serve(zone: Vec<(&'static str, RecordType, Answer)>) -> SocketAddr {
    let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = sock.local_addr().unwrap();
    let zone: Arc<HashMap<(String, RecordType), Answer>> = Arc::new(
        zone.into_iter()
            .map(|(n, t, a)| ((n.to_string(), t), a))
            .collect(),
    );
    tokio::spawn(async move {
        let mut buf = vec![0u8; 4096];
        loop {
            let Ok((n, peer)) = sock.recv_from(&mut buf).await else {
                return;
            };
            let Ok(req) = Message::from_vec(&buf[..n]) else {
                continue;
            };
            let Some(q) = req.queries.first().cloned() else {
                continue;
            };
            let name = q.name.to_ascii().trim_end_matches('.').to_ascii_lowercase();
            let known = zone.keys().any(|(n, _)| *n == name);
            let mut resp = Message::response(req.metadata.id, req.metadata.op_code);
            resp.metadata.recursion_desired = req.metadata.recursion_desired;
            resp.metadata.recursion_available = true;
            resp.add_query(q.clone());
            match zone.get(&(name.clone(), q.query_type)) {
                Some(Answer::Silence) => continue,
                Some(Answer::Code(code)) => resp.metadata.response_code = *code,
                Some(Answer::Mx(list)) => {
                    for (pref, host) in list {
                        let exchange = Name::from_ascii(format!("{host}.")).unwrap();
                        resp.add_answer(Record::from_rdata(
                            q.name.clone(),
                            0,
                            RData::MX(MX::new(*pref, exchange)),
                        ));
                    }
                }
                Some(Answer::A(ip)) => {
                    resp.add_answer(Record::from_rdata(q.name.clone(), 0, RData::A(A(*ip))));
                }
                Some(Answer::Aaaa(ip)) => {
                    resp.add_answer(Record::from_rdata(
                        q.name.clone(),
                        0,
                        RData::AAAA(AAAA(*ip)),
                    ));
                }
                None if known => {}
                None => resp.metadata.response_code = ResponseCode::NXDomain,
            }
            if let Ok(bytes) = resp.to_vec() {
                let _ = sock.send_to(&bytes, peer).await;
            }
        }
    });
    addr
}
