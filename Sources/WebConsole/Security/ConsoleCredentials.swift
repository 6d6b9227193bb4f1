import CertificateStore
import Foundation

/// The console's one account, `admin`, and where its password lives: `VarDir/console/passwd`
/// (mode 0600: `admin:` and the PBKDF2 hash, written by `moat-ctl console-password`), or, until
/// a password is set, `VarDir/console/initial-password` (0600), a random password moatd writes
/// at its first start for root to read. The directory is 0700. Both files are read at each
/// login, so a new password works at once, without a restart.
public struct ConsoleCredentials: Sendable {
    public static let userName = "admin"
    /// Shorter passwords are refused by `moat-ctl console-password`.
    public static let minimumPasswordLength = 10

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    public let directory: String
    public var passwordFile: String { directory + "/passwd" }
    public var initialPasswordFile: String { directory + "/initial-password" }

    /// `VarDir/console`.
    public init(directory: String) {
        self.directory = directory
    }

    public var isPasswordSet: Bool { FileManager.default.fileExists(atPath: passwordFile) }

    /// At start: when no password is set, makes sure an initial password exists and returns
    /// the file root reads it from (nil when a password is set). An existing initial password
    /// is kept, so restarting does not change what the administrator may already have read.
    public func prepareInitialPassword() throws(Failure) -> String? {
        try makeDirectory()
        if isPasswordSet {
            try PrivateFile.requirePrivate(passwordFile)
            return nil
        }
        if FileManager.default.fileExists(atPath: initialPasswordFile) {
            try PrivateFile.requirePrivate(initialPasswordFile)
            return initialPasswordFile
        }
        try PrivateFile.write(SecureRandom.password() + "\n", to: initialPasswordFile)
        return initialPasswordFile
    }

    /// `moat-ctl console-password`: stores the hash and removes the initial password.
    public func setPassword(_ password: String) throws(Failure) {
        guard password.count >= Self.minimumPasswordLength else {
            throw Failure(description: "the password must have at least \(Self.minimumPasswordLength) characters")
        }
        guard !password.contains(where: \.isNewline) else { throw Failure(description: "the password must be one line") }
        try makeDirectory()
        let hash: String
        do {
            hash = try PasswordHash.make(password)
        } catch {
            throw Failure(description: "cannot hash the password: \(error)")
        }
        try PrivateFile.write("\(Self.userName):\(hash)\n", to: passwordFile)
        if unlink(initialPasswordFile) != 0, errno != ENOENT {
            throw Failure(description: "the password is set, but \(initialPasswordFile) could not be removed: \(String(cString: strerror(errno)))")
        }
    }

    /// Slow on purpose (PBKDF2): call it off the event loops, and only after the throttle.
    func verify(user: String, password: String) -> Bool {
        let userMatches = ConstantTime.equal(user, Self.userName)
        if let line = try? PrivateFile.read(passwordFile) {
            let text = line.trimmingCharacters(in: .whitespacesAndNewlines)
            guard let colon = text.firstIndex(of: ":") else { return false }
            let stored = String(text[text.index(after: colon)...])
            // The hash is computed whatever the user name, so a wrong name costs the same time.
            let passwordMatches = PasswordHash.verify(password, against: stored)
            return userMatches && passwordMatches && String(text[..<colon]) == Self.userName
        }
        guard let initial = try? PrivateFile.read(initialPasswordFile) else { return false }
        let expected = initial.trimmingCharacters(in: .whitespacesAndNewlines)
        return userMatches && !expected.isEmpty && ConstantTime.equal(password, expected)
    }

    private func makeDirectory() throws(Failure) {
        let existed = FileManager.default.fileExists(atPath: directory)
        defer { if !existed { DirectoryOwner.adopt(directory) } }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw Failure(description: "cannot create \(directory): \(error.localizedDescription)")
        }
        chmod(directory, 0o700)
    }
}

/// Files only root may read: created 0600 from the first byte, replaced atomically, refused
/// when others can read them.
enum PrivateFile {
    static func write(_ text: String, to path: String) throws(ConsoleCredentials.Failure) {
        let temp = path + ".new"
        unlink(temp)
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw ConsoleCredentials.Failure(description: "cannot create \(temp): \(String(cString: strerror(errno)))")
        }
        DirectoryOwner.adopt(fd, in: (path as NSString).deletingLastPathComponent)
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
        fsync(fd)
        close(fd)
        guard written == bytes.count, rename(temp, path) == 0 else {
            unlink(temp)
            throw ConsoleCredentials.Failure(description: "cannot write \(path)")
        }
    }

    static func read(_ path: String) throws(ConsoleCredentials.Failure) -> String {
        try requirePrivate(path)
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ConsoleCredentials.Failure(description: "cannot read \(path)")
        }
        return text
    }

    static func requirePrivate(_ path: String) throws(ConsoleCredentials.Failure) {
        var info = stat()
        guard stat(path, &info) == 0 else { throw ConsoleCredentials.Failure(description: "\(path) does not exist") }
        guard info.st_mode & 0o077 == 0 else {
            throw ConsoleCredentials.Failure(description: "\(path) is readable by others (mode \(String(info.st_mode & 0o777, radix: 8))); chmod 600 it")
        }
    }
}
