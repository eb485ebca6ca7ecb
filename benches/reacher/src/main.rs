//! Verify the addresses of a file (one per line) with Reacher's check-if-email-exists and write
//! `email,is_reachable,smtp` as CSV, for benches/verify_bench.sh. DNS comes from
//! /etc/resolv.conf (port 53); the SMTP port, HELO name and MAIL FROM are set like hailer's.

use std::time::Duration;

use check_if_email_exists::{check_email, CheckEmailInput, CheckEmailInputBuilder};
use check_if_email_exists::smtp::verif_method::VerifMethod;
use futures::StreamExt;

fn arg(args: &[String], name: &str, default: &str) -> String {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| default.to_string())
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let input = arg(&args, "--input", "-");
    let output = arg(&args, "--output", "reacher.csv");
    let port: u16 = arg(&args, "--smtp-port", "25").parse().expect("--smtp-port");
    let concurrency: usize = arg(&args, "--concurrency", "8").parse().expect("--concurrency");
    let text = std::fs::read_to_string(&input).expect("read input");
    let emails: Vec<String> = text.lines().map(str::to_string).collect();
    let method = VerifMethod::new_with_same_config_for_all(
        None,
        "verifier.sender.test".into(),
        "probe@sender.test".into(),
        port,
        Some(Duration::from_secs(12)),
        1,
    );
    let mut out = csv::Writer::from_path(&output).expect("create output");
    out.write_record(["email", "is_reachable", "smtp"]).unwrap();
    let mut results = futures::stream::iter(emails)
        .map(|email| {
            let method = method.clone();
            async move {
                let input: CheckEmailInput = CheckEmailInputBuilder::default()
                    .to_email(email.clone())
                    .verif_method(method)
                    .build()
                    .expect("input");
                let r = check_email(&input).await;
                let reach = format!("{:?}", r.is_reachable).to_lowercase();
                let smtp = match &r.smtp {
                    Ok(s) => format!(
                        "deliverable={} catch_all={} disabled={} full={}",
                        s.is_deliverable, s.is_catch_all, s.is_disabled, s.has_full_inbox
                    ),
                    Err(e) => format!("error: {e:?}").chars().take(200).collect(),
                };
                (email, reach, smtp)
            }
        })
        .buffered(concurrency);
    while let Some((email, reach, smtp)) = results.next().await {
        out.write_record([email, reach, smtp]).unwrap();
    }
    out.flush().unwrap();
}
