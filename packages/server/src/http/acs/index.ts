/**
 * http/acs/: the Azure Communication Services compatibility door. The ACS Chat and Identity REST
 * contracts (a foreign wire format, so its schemas live here, not in @parley/protocol), access-key
 * HMAC authentication, ACS ids and error bodies. Like every route, these call the same services as the
 * Parley API and hold no business rules: they translate ids, shapes and errors.
 */
export { acsRoutes, type AcsRoutesOptions } from './acs-routes.js';
