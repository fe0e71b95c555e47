//! I/O errors in Chinese, naming the path.

use std::io::ErrorKind;
use std::path::Path;

/// What went wrong, in Chinese: the kind of error, then the system's own
/// message in brackets.
pub fn describe(e: &std::io::Error) -> String {
    let what = match e.kind() {
        ErrorKind::NotFound => "文件或目录不存在",
        ErrorKind::PermissionDenied => "没有权限",
        ErrorKind::AlreadyExists => "已存在",
        ErrorKind::StorageFull => "磁盘空间已满",
        ErrorKind::QuotaExceeded => "超出磁盘配额",
        ErrorKind::ReadOnlyFilesystem => "文件系统只读",
        ErrorKind::IsADirectory => "这是一个目录，不是文件",
        ErrorKind::NotADirectory => "路径中有一段不是目录",
        ErrorKind::DirectoryNotEmpty => "目录不为空",
        ErrorKind::InvalidData => return e.to_string(),
        ErrorKind::InvalidInput => return e.to_string(),
        ErrorKind::Interrupted => "操作被中断",
        ErrorKind::UnexpectedEof => "文件意外结束",
        ErrorKind::OutOfMemory => "内存不足",
        ErrorKind::CrossesDevices => "不能跨文件系统移动",
        _ => match e.raw_os_error() {
            Some(_) => "系统错误",
            None => return e.to_string(),
        },
    };
    match e.raw_os_error() {
        Some(_) => format!("{what}（{e}）"),
        None if e.get_ref().is_some() => format!("{what}：{e}"),
        None => what.to_string(),
    }
}

/// `e` with a Chinese message that names `path` and what was being done
/// (`读取`, `写入`, `创建目录` …); the kind is kept.
pub fn with_path(action: &str, path: &Path, e: std::io::Error) -> std::io::Error {
    std::io::Error::new(
        e.kind(),
        format!("无法{action} {}：{}", path.display(), describe(&e)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_chinese_and_name_the_path() {
        let e = std::io::Error::from_raw_os_error(28);
        let e = with_path("写入", Path::new("out/warnings.csv"), e);
        assert_eq!(e.kind(), ErrorKind::StorageFull);
        let s = e.to_string();
        assert!(
            s.starts_with("无法写入 out/warnings.csv：磁盘空间已满"),
            "{s}"
        );
        let e = with_path(
            "读取",
            Path::new("a.jsonl"),
            std::io::Error::from_raw_os_error(13),
        );
        assert!(e.to_string().contains("a.jsonl：没有权限"), "{e}");
        let e = with_path(
            "读取",
            Path::new("b"),
            std::io::Error::from(ErrorKind::NotFound),
        );
        assert_eq!(e.to_string(), "无法读取 b：文件或目录不存在");
    }
}
