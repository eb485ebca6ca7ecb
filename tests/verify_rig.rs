//! Address verification against the mail rig's real dnsmasq and Postfix (`HAILER_RIG=DIR`).
//! The fault cases a real server will not produce on demand are in `tests/verify_faults.rs`.

#[path = "common/rig.rs"]
mod rig;

use std::time::Duration;

use hailer::engine::verify::dns::{Dns, DnsSettings, MxAnswer, MxHost};

fn rig_dns(rig: &rig::Rig) -> Dns {
    Dns::new(&DnsSettings {
        nameservers: vec![rig.dns()],
        timeout: Duration::from_secs(2),
        attempts: 1,
    })
    .unwrap()
}

fn names(answer: &MxAnswer) -> Vec<(u16, String, bool)> {
    match answer {
        MxAnswer::Hosts(h) => h
            .iter()
            .map(
                |MxHost {
                     preference,
                     name,
                     implicit,
                 }| (*preference, name.clone(), *implicit),
            )
            .collect(),
        other => panic!("expected hosts, got {other:?}"),
    }
}

#[tokio::test]
async fn rig_dns_answers_every_routing_case() {
    let Some(rig) = rig::rig() else { return };
    let dns = rig_dns(&rig);
    assert_eq!(
        names(&dns.mx("acme.test").await.unwrap()),
        [(10, "mx.acme.test".to_string(), false)]
    );
    assert_eq!(
        names(&dns.mx("fallback.test").await.unwrap()),
        [
            (10, "mx1.fallback.test".to_string(), false),
            (20, "mx2.fallback.test".to_string(), false)
        ]
    );
    assert_eq!(
        names(&dns.mx("nomx.test").await.unwrap()),
        [(0, "nomx.test".to_string(), true)]
    );
    assert_eq!(dns.mx("nullmx.test").await.unwrap(), MxAnswer::NullMx);
    assert_eq!(dns.mx("nosuch.test").await.unwrap(), MxAnswer::NxDomain);
    let dead = dns.addresses("mx1.fallback.test").await.unwrap().unwrap();
    assert_eq!(
        dead,
        vec![rig.var("RIG_DEAD_IP").parse::<std::net::IpAddr>().unwrap()]
    );
}
