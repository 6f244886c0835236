//! `payagg-mock`: the simulator as a program.
//!
//! ```text
//! payagg-mock init DIR                                  write a complete test setup into DIR
//! payagg-mock serve --config DIR/mock.json [--listen 127.0.0.1:PORT] [--public]
//! payagg-mock                                           both, in a temporary directory
//! ```
//!
//! It listens on loopback only unless `--public` is given.
#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use payagg_mock::{MockConfig, MockServer};

const USAGE: &str = "\
usage:
  payagg-mock init DIR
      write keys, certificates and mock.json for a test setup into DIR
  payagg-mock serve --config FILE [--listen 127.0.0.1:PORT] [--public]
      serve the simulator; prints its base URL (loopback only unless --public)
  payagg-mock
      init into a temporary directory, then serve it";

#[derive(Debug)]
enum Command {
    Init(PathBuf),
    Serve {
        config: PathBuf,
        listen: Option<SocketAddr>,
        public: bool,
    },
    Both,
    Help,
}

fn parse(args: &[String]) -> Result<Command, String> {
    match args.first().map(String::as_str) {
        None => Ok(Command::Both),
        Some("-h" | "--help" | "help") => Ok(Command::Help),
        Some("init") => match args.get(1..) {
            Some([dir]) => Ok(Command::Init(PathBuf::from(dir))),
            _ => Err("init takes exactly one directory".into()),
        },
        Some("serve") => {
            let (mut config, mut listen, mut public) = (None, None, false);
            let mut it = args[1..].iter();
            while let Some(a) = it.next() {
                match a.as_str() {
                    "--config" => {
                        config = Some(PathBuf::from(it.next().ok_or("--config needs a file")?))
                    }
                    "--listen" => {
                        let v = it.next().ok_or("--listen needs an address")?;
                        listen = Some(v.parse().map_err(|_| format!("not an address: {v}"))?);
                    }
                    "--public" => public = true,
                    other => return Err(format!("unknown argument {other}")),
                }
            }
            Ok(Command::Serve {
                config: config.ok_or("serve needs --config FILE")?,
                listen,
                public,
            })
        }
        Some(other) => Err(format!("unknown command {other}")),
    }
}

fn init(dir: &Path) -> Result<PathBuf, String> {
    let config = MockConfig::generate().map_err(|e| e.to_string())?;
    let written = config.write_setup(dir).map_err(|e| e.to_string())?;
    println!("payagg-mock: wrote a test setup to {}", dir.display());
    for (path, what) in &written {
        println!("  {:<60} {what}", path.display());
    }
    let w = &config.wechat;
    println!("  WeChat mchid {}  appid {}", w.mchid(), w.appid());
    println!(
        "  WeChat merchant certificate serial {}",
        w.merchant_serial()
    );
    println!(
        "  WeChat platform certificate serial {}",
        w.platform_serial()
    );
    println!("  WeChat Pay public key id {}", w.pub_key_id());
    Ok(dir.join("mock.json"))
}

async fn serve(path: &Path, listen: Option<SocketAddr>, public: bool) -> Result<(), String> {
    let mut config = MockConfig::load(path).map_err(|e| format!("{e}: {}", source_chain(&e)))?;
    if let Some(addr) = listen {
        config = config.with_listen(addr);
    }
    if !config.listen.ip().is_loopback() && !public {
        return Err(format!(
            "{} is not a loopback address; add --public to serve it anyway",
            config.listen
        ));
    }
    let server = MockServer::start(config).await.map_err(|e| e.to_string())?;
    follow_real_time(&server);
    print!("{}", banner(&server.base_url()));
    tokio::signal::ctrl_c().await.map_err(|e| e.to_string())?;
    drop(server);
    Ok(())
}

/// The served simulator's clock follows real time, because real clients sign with their own
/// clocks and the 5-minute windows would otherwise close on them; control-API advances
/// (`/__mock/clock/advance`) stay as offsets on top. (In-process tests keep the clock still.)
fn follow_real_time(server: &MockServer) {
    let clock = server.clock();
    tokio::spawn(async move {
        let mut last = std::time::Instant::now();
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
        loop {
            tick.tick().await;
            let now = std::time::Instant::now();
            let elapsed = time::Duration::try_from(now - last).unwrap_or(time::Duration::ZERO);
            last = now;
            payagg_core::clock::ManualClock::advance(&clock, elapsed);
        }
    });
}

/// What `serve` prints: the base URL, then each channel's base paths on it.
fn banner(base: &str) -> String {
    format!(
        "payagg-mock: serving WeChat Pay, Alipay and UnionPay at {base}\n\
         \x20 WeChat Pay  APIv3 {base}/v3/… ; APIv2 payment codes {base}/pay/micropay, /pay/orderquery, /secapi/pay/reverse\n\
         \x20 Alipay      gateway {base}/gateway.do ; v3 REST {base}/v3/alipay/… ; bill files {base}/downloadBillFile.resource ; cashier {base}/alipay/…\n\
         \x20 UnionPay    gateway {base}/gateway/api/{{frontTransReq,backTransReq,appTransReq,queryTrans,fileTransfer}}.do ; file transfer {base}/\n\
         payagg-mock: control API at {base}/__mock/, payer page at {base}/ (Ctrl-C to stop)\n"
    )
}

fn source_chain(e: &dyn std::error::Error) -> String {
    let mut out = Vec::new();
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push(s.to_string());
        cur = s.source();
    }
    out.join(": ")
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match parse(&args) {
        Err(e) => Err(format!("{e}\n{USAGE}")),
        Ok(Command::Help) => {
            println!("{USAGE}");
            Ok(())
        }
        Ok(Command::Init(dir)) => init(&dir).map(|_| ()),
        Ok(Command::Serve {
            config,
            listen,
            public,
        }) => serve(&config, listen, public).await,
        Ok(Command::Both) => {
            let dir = std::env::temp_dir().join(format!("payagg-mock-{}", std::process::id()));
            match init(&dir) {
                Ok(config) => serve(&config, None, false).await,
                Err(e) => Err(e),
            }
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("payagg-mock: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn parses() {
        assert!(matches!(parse(&[]), Ok(Command::Both)));
        assert!(matches!(parse(&args("init /tmp/x")), Ok(Command::Init(_))));
        assert!(matches!(
            parse(&args("serve --config m.json --listen 127.0.0.1:9000")),
            Ok(Command::Serve {
                listen: Some(_),
                public: false,
                ..
            })
        ));
        assert!(parse(&args("serve")).is_err());
        assert!(parse(&args("serve --config m.json --listen nope")).is_err());
        assert!(parse(&args("frobnicate")).is_err());
    }

    #[test]
    fn banner_lists_the_three_channels() {
        let b = banner("http://127.0.0.1:9");
        assert!(b.starts_with(
            "payagg-mock: serving WeChat Pay, Alipay and UnionPay at http://127.0.0.1:9\n"
        ));
        for path in [
            "http://127.0.0.1:9/v3/",
            "http://127.0.0.1:9/pay/micropay",
            "http://127.0.0.1:9/gateway.do",
            "http://127.0.0.1:9/v3/alipay/",
            "http://127.0.0.1:9/gateway/api/{frontTransReq,",
            "http://127.0.0.1:9/__mock/",
        ] {
            assert!(b.contains(path), "{path} in {b}");
        }
    }
}
