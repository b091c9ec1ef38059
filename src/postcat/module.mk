$(eval $(call program,postcat,bin,global util))
