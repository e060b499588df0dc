/** certrole's release version, printed by `certrole version` and sent in User-Agent. */
export const VERSION = "0.1.0";
