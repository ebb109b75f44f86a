-- Users and roles in separate casbin namespaces: `user:<name>` and `role:<name>`.
--
-- casbin's g(a, b, domain) holds when a = b, so with bare names a user called system_admin
-- held the system_admin policy in every region. Policy lines name roles; grant lines name a
-- user and a role, and keep their region. Rows already prefixed are left alone. Usernames
-- cannot contain ':' (users' CHECK) and neither can the roles hmis knows, so a rewritten
-- row cannot collide with another; if a hand-made one did, the unique key would stop the
-- migration, which then changes nothing.
--
-- hmis processes of the previous version deny everything once they reload these rows:
-- restart them on the new version after migrating.

UPDATE casbin_rule SET v0 = 'role:' || v0
 WHERE ptype = 'p' AND v0 NOT LIKE 'role:%';

UPDATE casbin_rule SET v0 = 'user:' || v0
 WHERE ptype = 'g' AND v0 NOT LIKE 'user:%';

UPDATE casbin_rule SET v1 = 'role:' || v1
 WHERE ptype = 'g' AND v1 NOT LIKE 'role:%';
