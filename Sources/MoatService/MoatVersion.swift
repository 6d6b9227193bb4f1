/// The version moatd reports (`appinfo`, the console's status page).
public enum MoatVersion {
    public static let current = "0.1.0"
}
