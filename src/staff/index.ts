/** The staff module (職員・権限・ログイン): what other modules and the app may use. */
export {
  authPlugin,
  actorOf,
  declaredRoutes,
  SESSION_COOKIE,
  type AuthPluginOptions,
  type RouteDeclaration,
  type RoutePermission,
} from './auth.plugin.js';
export { authRoutes, type StaffRouteOptions } from './auth.routes.js';
export { staffRoutes } from './staff.routes.js';
export { terminalRoutes } from './terminal.routes.js';
export { TerminalService } from './terminal.service.js';
export { TERMINAL_COOKIE } from './terminal.js';
export { AuthService, type SignedIn } from './auth.service.js';
export { StaffService } from './staff.service.js';
export { registerStaffCommands, type StaffCliDeps } from './staff.cli.js';
export { seedDemoStaff, DEMO_ACCOUNTS, type DemoAccount } from './demo-staff.js';
export { checkPasswordPolicy, STAFF_ERROR_STATUS, type Staff, type CreatedStaff } from './staff.js';
export { totpCode } from './credentials.js';
