//! `triage corpus`: generate a labeled benchmark corpus or an unlabeled
//! stream for speed tests.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Subcommand;

use petition_triage::sink::{self};

#[derive(Subcommand, Debug)]
pub(crate) enum CorpusCommand {
    /// 生成带标注的基准语料（JSON Lines，含 gold 标注）。
    Generate {
        /// 随机种子（相同种子得到相同语料）。
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// 案件数。
        #[arg(long, default_value_t = 20_000)]
        count: usize,
        /// 输出文件。
        #[arg(long, short)]
        out: PathBuf,
    },
    /// 流式生成无标注语料（测速用），例如 --size 100MB；- 表示标准输出。
    Stream {
        /// 随机种子。
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// 大小：字节数，或带 KB/MB/GB。
        #[arg(long)]
        size: String,
        /// 输出文件（- 为标准输出）。
        #[arg(long, short)]
        out: PathBuf,
    },
}

fn parse_size(s: &str) -> Option<u64> {
    let t = s.trim().to_ascii_uppercase();
    let (num, mult) = [
        ("GB", 1u64 << 30),
        ("MB", 1 << 20),
        ("KB", 1 << 10),
        ("G", 1 << 30),
        ("M", 1 << 20),
        ("K", 1 << 10),
        ("B", 1),
    ]
    .iter()
    .find_map(|(suf, m)| t.strip_suffix(suf).map(|n| (n.trim().to_string(), *m)))
    .unwrap_or((t.clone(), 1));
    num.parse::<f64>()
        .ok()
        .filter(|n| *n > 0.0)
        .map(|n| (n * mult as f64) as u64)
}

pub(crate) fn cmd_corpus(c: CorpusCommand) -> Result<u8> {
    match c {
        CorpusCommand::Generate { seed, count, out } => {
            let mut buf = Vec::new();
            petition_triage::corpus::write_labeled(&mut buf, seed, count)?;
            sink::write_atomic(&out, &buf)
                .with_context(|| format!("无法写入 {}", out.display()))?;
            eprintln!(
                "已生成 {count} 件带标注的案件（种子 {seed}）：{}",
                out.display()
            );
        }
        CorpusCommand::Stream { seed, size, out } => {
            let Some(bytes) = parse_size(&size) else {
                bail!("无法识别的大小“{size}”，例如 500KB、100MB、1GB");
            };
            let n = if out.as_os_str() == "-" {
                let mut w = std::io::BufWriter::new(std::io::stdout().lock());
                match petition_triage::corpus::write_unlabeled(&mut w, seed, bytes) {
                    Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(0),
                    r => r?,
                }
            } else {
                let mut open = std::fs::OpenOptions::new();
                open.write(true).create(true).truncate(true);
                #[cfg(unix)]
                {
                    use std::os::unix::fs::OpenOptionsExt;
                    open.mode(0o600);
                }
                let file = open
                    .open(&out)
                    .map_err(|e| petition_triage::util::ioerr::with_path("写入", &out, e))?;
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    file.set_permissions(std::fs::Permissions::from_mode(0o600))
                        .map_err(|e| petition_triage::util::ioerr::with_path("写入", &out, e))?;
                }
                let mut w = std::io::BufWriter::new(file);
                let n = petition_triage::corpus::write_unlabeled(&mut w, seed, bytes)?;
                std::io::Write::flush(&mut w)?;
                n
            };
            eprintln!("已生成 {n} 字节（种子 {seed}）");
        }
    }
    Ok(0)
}
