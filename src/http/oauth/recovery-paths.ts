/** Where the account pages live: "Forgot password?" links here from the sign-in and account pages. */
export const ACCOUNT_PAGE_PATH = '/account';
export const FORGOT_PATH = '/account/forgot';
/** The default page of the emailed link (RESET_URL_TEMPLATE's default). */
export const RESET_PATH = '/account/reset';
/** After a reset, the sign-in page says so (a fixed word in the query, not free text). */
export const PASSWORD_CHANGED_NOTICE = 'password_changed';
