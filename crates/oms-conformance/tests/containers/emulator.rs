//! The emulator container itself: the fault-free image refuses to inject a
//! fault, and `docker stop` with half-sent requests open drains and exits 0
//! before docker's SIGKILL.

use std::io::Read;
use std::time::Instant;

use crate::docker::{docker, docker_output, wait_for};
use crate::{IMAGE, QUICK};

/// The emulator image has no fault injection: asked for a fault, the server
/// refuses to start, in one line, with exit 2.
pub fn the_emulator_image_refuses_a_fault() -> Result<(), String> {
    let name = format!("oms-refuses-a-fault-{}", std::process::id());
    let output = docker_output(
        &[
            "run",
            "--rm",
            "--name",
            &name,
            "-e",
            "OMS_FAULT=delete-running",
            IMAGE,
        ],
        QUICK,
    )?;
    // `--rm` removal may finish just after `docker run` returns; the tests
    // after this one count containers of the image, so wait until it is gone.
    let gone = wait_for(std::time::Duration::from_secs(20), || {
        docker(
            &["ps", "-a", "-q", "--filter", &format!("name={name}")],
            QUICK,
        )
        .is_ok_and(|ids| ids.trim().is_empty())
    });
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.code() != Some(2) || !stderr.contains("no fault injection") {
        return Err(format!(
            "expected exit 2 and \"no fault injection\", got {} with stderr:\n{stderr}",
            output.status
        ));
    }
    if !gone {
        return Err(format!("the container {name} was not removed within 20 s"));
    }
    Ok(())
}

/// Reads from `stream` until `want` has arrived, within 10 s.
fn read_until(stream: &mut std::net::TcpStream, want: &[u8]) -> Result<Vec<u8>, String> {
    let until = Instant::now() + std::time::Duration::from_secs(10);
    let mut got = Vec::new();
    let mut chunk = [0u8; 4096];
    while !got.windows(want.len()).any(|w| w == want) {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(format!(
                "no {:?} within 10 s, got {:?}",
                String::from_utf8_lossy(want),
                String::from_utf8_lossy(&got)
            ));
        }
        stream
            .set_read_timeout(Some(left))
            .map_err(|e| e.to_string())?;
        match stream.read(&mut chunk) {
            Ok(0) => return Err(format!("closed, got {:?}", String::from_utf8_lossy(&got))),
            Ok(n) => got.extend_from_slice(&chunk[..n]),
            Err(e) => return Err(format!("read: {e}")),
        }
    }
    Ok(got)
}

/// `docker stop` of the emulator with a half-sent head and a half-sent body
/// open: the server drains (default deadline 5 s) and exits 0, well before
/// docker's SIGKILL at 10 s (which would be exit 137).
pub fn docker_stop_with_half_sent_requests_exits_0() -> Result<(), String> {
    use std::io::Write;
    let name = format!("oms-stop-half-sent-{}", std::process::id());
    docker(
        &["run", "-d", "--name", &name, "-p", "127.0.0.1::8080", IMAGE],
        QUICK,
    )?;
    let outcome = (|| {
        let port = docker(&["port", &name, "8080/tcp"], QUICK)?;
        let addr: std::net::SocketAddr = port
            .lines()
            .next()
            .and_then(|l| l.trim().parse().ok())
            .ok_or_else(|| format!("docker port said {port:?}"))?;
        let project = "0123456789abcdef0123456789abcdef";
        let list = format!(
            "GET /v1/{project}/objectstorage/task?start=0&limit=1 HTTP/1.1\r\nHost: t\r\nX-Auth-Token: dev-token-a\r\n\r\n"
        );
        // The emulator answers once it is up; each connection is proved held
        // by an answer before it sends its half request.
        let mut head = None;
        let up = wait_for(std::time::Duration::from_secs(30), || {
            let Ok(mut stream) = std::net::TcpStream::connect(addr) else {
                return false;
            };
            let answered = stream.write_all(list.as_bytes()).is_ok()
                && read_until(&mut stream, b"\r\n\r\n").is_ok();
            head = answered.then_some(stream);
            answered
        });
        let mut head = head
            .filter(|_| up)
            .ok_or("the emulator did not answer within 30 s")?;
        head.write_all(b"GET /v1/x/version HTTP/1.1\r\nHost: x\r\n")
            .map_err(|e| e.to_string())?;
        let mut body = std::net::TcpStream::connect(addr).map_err(|e| e.to_string())?;
        body.write_all(
            format!(
                "POST /v1/{project}/objectstorage/task HTTP/1.1\r\nHost: t\r\nX-Auth-Token: dev-token-a\r\n\
                 Content-Type: application/json\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n"
            )
            .as_bytes(),
        )
        .map_err(|e| e.to_string())?;
        read_until(&mut body, b"100 Continue")?;
        body.write_all(b"{").map_err(|e| e.to_string())?;
        let started = Instant::now();
        docker(&["stop", "-t", "10", &name], QUICK)?;
        let took = started.elapsed();
        let code = docker(&["inspect", "-f", "{{.State.ExitCode}}", &name], QUICK)?;
        if code.trim() != "0" {
            return Err(format!(
                "docker stop took {took:?}; the exit code was {}",
                code.trim()
            ));
        }
        if took >= std::time::Duration::from_secs(9) {
            return Err(format!("docker stop took {took:?}: near its SIGKILL"));
        }
        println!("docker stop with a half-sent head and body open: exit 0 after {took:.2?}");
        Ok(())
    })();
    let _ = docker_output(&["rm", "-f", &name], QUICK);
    outcome
}
