import { errors } from 'jose';

/** Why a token was not accepted: what lands in input.mesh.jwt.error, never an exception. */
export type JwtReason =
  | 'missing'
  | 'too_large'
  | 'malformed'
  | 'alg_not_allowed'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'unknown_kid'
  | 'bad_signature'
  | 'expired'
  | 'not_yet_valid'
  | 'invalid_claims'
  | 'keys_unavailable';

/** Maps what jose throws onto a reason; anything unexpected is a malformed token, not a crash. */
export function reasonOf(err: unknown): JwtReason {
  if (err instanceof errors.JWTExpired) return 'expired';
  if (err instanceof errors.JWTClaimValidationFailed) {
    switch (err.claim) {
      case 'nbf':
      case 'iat':
        return 'not_yet_valid';
      case 'iss':
        return 'wrong_issuer';
      case 'aud':
        return 'wrong_audience';
      default:
        return 'invalid_claims';
    }
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'bad_signature';
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) return 'alg_not_allowed';
  if (err instanceof errors.JWKSNoMatchingKey) return 'unknown_kid';
  return 'malformed';
}
