/** The claim naming the grant (or, for client_credentials, the client's lineage) an OAuth access token belongs to. */
export const GRANT_CLAIM = 'grant_id';
