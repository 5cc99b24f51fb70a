/** Each scope in plain words, for the consent page. */
const DESCRIPTIONS: Readonly<Record<string, string>> = {
  openid: 'Know who you are on tessera',
  profile: 'See your username',
  email: 'See your e-mail address',
  offline_access: 'Stay connected when you are not using it',
  account: 'Manage your account: your devices, password and two-step sign-in',
  'tasks:read': 'See your tasks',
  'tasks:write': 'Add, change and delete your tasks',
  'calendar:read': 'See your calendar',
  'calendar:write': 'Add, change and delete your calendar events',
  'messages:read': 'Read your messages and conversations',
  'messages:write': 'Send messages as you',
  admin: 'Administer this tessera server with your admin rights',
};

export const describeScope = (scope: string) => ({ scope, description: DESCRIPTIONS[scope] ?? scope });
