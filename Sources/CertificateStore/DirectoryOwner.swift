import Foundation

/// moat-ctl runs as root, moatd as `[Root] User`: what root writes into a directory of moatd's
/// (VarDir and below) takes that directory's owner, so moatd can still read it. Used for the
/// CA's files here and the console's password files (WebConsole).
public enum DirectoryOwner {
    /// The file open on `fd` (not yet renamed into place) gets the owner of `directory`.
    public static func adopt(_ fd: Int32, in directory: String) {
        guard geteuid() == 0, let owner = owner(of: directory) else { return }
        _ = fchown(fd, owner.uid, owner.gid)
    }

    /// `path` (a file or directory just made) gets the owner of the directory it is in.
    public static func adopt(_ path: String) {
        guard geteuid() == 0, let owner = owner(of: (path as NSString).deletingLastPathComponent) else { return }
        _ = lchown(path, owner.uid, owner.gid)
    }

    private static func owner(of directory: String) -> (uid: uid_t, gid: gid_t)? {
        var info = stat()
        guard stat(directory, &info) == 0, info.st_uid != 0 else { return nil }
        return (info.st_uid, info.st_gid)
    }
}
