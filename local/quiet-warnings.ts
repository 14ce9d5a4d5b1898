/**
 * Imported first by every entry point (npm start, the CLI, smoke): the AWS SDK's own switch
 * for its NodeVersionSupport warning (its releases after January 2027 need Node 22; the
 * supported versions are stated once, in package.json's engines and the README). That is
 * not news at every command; every other warning still prints. A user who wants it sets
 * AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=false.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
