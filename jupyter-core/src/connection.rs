//! The connection file Jupyter writes for a kernel: ports, address, transport and key.

use serde::Deserialize;
use std::path::Path;

/// The parsed connection file.
#[derive(Debug, Clone, Deserialize)]
pub struct ConnectionInfo {
    /// `tcp` (the only transport this kernel supports).
    #[serde(default = "default_transport")]
    pub transport: String,
    /// The address to bind, e.g. `127.0.0.1`.
    pub ip: String,
    /// Shell ROUTER port.
    pub shell_port: u16,
    /// IOPub PUB port.
    pub iopub_port: u16,
    /// Stdin ROUTER port.
    pub stdin_port: u16,
    /// Control ROUTER port.
    pub control_port: u16,
    /// Heartbeat REP port.
    pub hb_port: u16,
    /// `hmac-sha256`.
    #[serde(default = "default_scheme")]
    pub signature_scheme: String,
    /// The HMAC key; empty disables signing.
    #[serde(default)]
    pub key: String,
}

fn default_transport() -> String {
    "tcp".to_owned()
}

fn default_scheme() -> String {
    "hmac-sha256".to_owned()
}

impl ConnectionInfo {
    /// Reads and parses a connection file.
    pub fn read(path: &Path) -> anyhow::Result<ConnectionInfo> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read connection file {}: {e}", path.display()))?;
        Self::parse(&text)
    }

    /// Parses the JSON text of a connection file.
    pub fn parse(text: &str) -> anyhow::Result<ConnectionInfo> {
        let info: ConnectionInfo =
            serde_json::from_str(text).map_err(|e| anyhow::anyhow!("bad connection file: {e}"))?;
        if info.transport != "tcp" {
            anyhow::bail!("unsupported transport {:?} (only tcp)", info.transport);
        }
        Ok(info)
    }

    /// The ZeroMQ endpoint for `port`, e.g. `tcp://127.0.0.1:5555`.
    pub fn endpoint(&self, port: u16) -> String {
        let ip = match self.ip.as_str() {
            "*" | "" => "0.0.0.0",
            ip => ip,
        };
        if ip.contains(':') && !ip.starts_with('[') {
            format!("tcp://[{ip}]:{port}")
        } else {
            format!("tcp://{ip}:{port}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{
      "shell_port": 50001, "iopub_port": 50002, "stdin_port": 50003,
      "control_port": 50004, "hb_port": 50005, "ip": "127.0.0.1",
      "key": "a0436f6c-1916-498b-8eb9-e81ab9368e84", "transport": "tcp",
      "signature_scheme": "hmac-sha256", "kernel_name": "rust-dl"
    }"#;

    #[test]
    fn parses_a_jupyter_connection_file() {
        let c = ConnectionInfo::parse(SAMPLE).unwrap();
        assert_eq!(c.shell_port, 50001);
        assert_eq!(c.hb_port, 50005);
        assert_eq!(c.key, "a0436f6c-1916-498b-8eb9-e81ab9368e84");
        assert_eq!(c.endpoint(c.control_port), "tcp://127.0.0.1:50004");
    }

    #[test]
    fn rejects_ipc_and_missing_ports() {
        let ipc = SAMPLE.replace("\"tcp\"", "\"ipc\"");
        assert!(ConnectionInfo::parse(&ipc).is_err());
        let missing = SAMPLE.replace("\"hb_port\": 50005,", "");
        assert!(ConnectionInfo::parse(&missing).is_err());
    }

    #[test]
    fn wildcard_and_ipv6_addresses() {
        let mut c = ConnectionInfo::parse(SAMPLE).unwrap();
        c.ip = "*".into();
        assert_eq!(c.endpoint(1), "tcp://0.0.0.0:1");
        c.ip = "::1".into();
        assert_eq!(c.endpoint(1), "tcp://[::1]:1");
    }
}
