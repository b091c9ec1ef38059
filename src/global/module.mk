$(eval $(call library,global,util))
