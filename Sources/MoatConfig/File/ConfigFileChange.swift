import Foundation

/// One change to the configuration file, the way `moat-ctl cfset` and the console's form both
/// make it: the file is read (a missing one counts as empty, so the first change creates it),
/// the edit is applied to the parameter's own lines, the whole result is validated, and only
/// then is the new text written, atomically and keeping the file's mode. Telling the daemon
/// to reload is the caller's part (over the control socket, or directly).
public enum ConfigFileChange {
    public enum Failure: Error, Sendable, CustomStringConvertible {
        /// The file as it is, or the value, or the file with the change, does not validate:
        /// nothing was written.
        case invalid(ConfigErrors)
        /// Valid, but the file could not be written; the old file is still in place.
        case unwritable(ConfigError)

        public var description: String {
            switch self {
            case .invalid(let errors): errors.description
            case .unwritable(let error): error.description
            }
        }
    }

    /// Applies `edit` to the parameter `dotted` (`Section.Param`) in the file at `path`.
    /// `result.changed` is false (and nothing is written) when the file already said that.
    @discardableResult
    public static func apply(_ edit: ConfigEdit, to dotted: String, inFileAt path: String,
                             loader: ConfigLoader) throws(Failure) -> EditResult {
        let current: LoadedConfig
        let result: EditResult
        do throws(ConfigErrors) {
            current = FileManager.default.fileExists(atPath: path)
                ? try loader.load(path: path) : try loader.load(text: "", file: path)
            result = try current.applying(edit, to: dotted, loader: loader)
        } catch {
            throw .invalid(error)
        }
        guard result.changed else { return result }
        do throws(ConfigError) {
            try ConfigFile.writeAtomically(result.text, to: path)
        } catch {
            throw .unwritable(error)
        }
        return result
    }
}
